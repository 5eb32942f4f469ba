// What the unit tests need from QTest that Qt 5.9 does not have (the
// helper's own shims are in core/qtcompat.h; docs/qt-versions.md).
#pragma once

#include <QElapsedTimer>
#include <QTest>

namespace ns8m {

// QTest::qWaitFor (Qt 5.10): processes events until PRED holds, for MS
// milliseconds at most; whether it holds.  The same loop on every Qt.
template<typename Pred>
bool waitFor(Pred pred, int ms)
{
    QElapsedTimer timer;
    timer.start();
    while (!pred()) {
        if (timer.hasExpired(ms))
            return pred();
        QTest::qWait(10);
    }
    return true;
}

} // namespace ns8m
