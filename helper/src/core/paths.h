// Paths of the NS7 system below the helper's root ("/" on a real NS7, a
// sample tree in the tests).
#pragma once

#include <QString>

namespace ns8m {

// ROOT + PATH (an absolute NS7 path), without a doubled slash.
inline QString underRoot(const QString &root, const QString &path)
{
    QString r = root;
    while (r.endsWith(u'/'))
        r.chop(1);
    return r + path;
}

} // namespace ns8m
