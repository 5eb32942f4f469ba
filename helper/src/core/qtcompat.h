// What differs between the Qt versions the helper builds with, from Qt 5.9
// (NethServer 7 has 5.9.7) to Qt 6, in one place.  docs/qt-versions.md lists
// every item and why; the rest of the code uses only the API the two share.
#pragma once

#include <QList>
#include <QProcess>
#include <QSet>
#include <QString>
#include <QUuid>
#include <QtGlobal>

#include <algorithm>
#include <cstddef>
#include <iterator>

class QNetworkReply;

#if QT_VERSION < QT_VERSION_CHECK(5, 10, 0)
// A QString compared with a u"" literal: Qt 5.10 on does it through
// QStringView, which Qt 5.9 does not have.  The same comparison here.
template<std::size_t N>
inline bool operator==(const QString &s, const char16_t (&literal)[N])
{
    return s == QString::fromRawData(reinterpret_cast<const QChar *>(literal), static_cast<int>(N - 1));
}
template<std::size_t N>
inline bool operator!=(const QString &s, const char16_t (&literal)[N])
{
    return !(s == literal);
}
template<std::size_t N>
inline bool operator==(const char16_t (&literal)[N], const QString &s)
{
    return s == literal;
}
template<std::size_t N>
inline bool operator!=(const char16_t (&literal)[N], const QString &s)
{
    return !(s == literal);
}
#endif

namespace ns8m {

// A size or an index in a Qt container or string: int in Qt 5, qsizetype in
// Qt 6 (qsizetype itself is Qt 5.10).  A variable of this type goes back
// into the container's API with no narrowing.
using Size = decltype(QString().size());

// QString::split's "drop the empty parts": Qt::SkipEmptyParts from 5.14 on
// (and the only one in Qt 6), QString::SkipEmptyParts before.
#if QT_VERSION >= QT_VERSION_CHECK(5, 14, 0)
inline constexpr Qt::SplitBehavior SkipEmptyParts = Qt::SkipEmptyParts;
#else
inline constexpr QString::SplitBehavior SkipEmptyParts = QString::SkipEmptyParts;
#endif

// QProcess::finished(int, QProcess::ExitStatus), to connect to: Qt 5 also
// has finished(int), so &QProcess::finished alone names no one function.
inline constexpr auto processFinished = QOverload<int, QProcess::ExitStatus>::of(&QProcess::finished);

// QList::removeIf (Qt 6.1): removes the items PRED holds true for, and says
// how many.
template<typename Container, typename Pred>
Size removeIf(Container &c, Pred pred)
{
    const auto from = std::remove_if(c.begin(), c.end(), pred);
    const auto n = static_cast<Size>(std::distance(from, c.end()));
    c.erase(from, c.end());
    return n;
}

// A QSet of a list's items: QSet's range constructor is Qt 5.14 and
// QList::toSet() is gone in Qt 6.
template<typename T>
QSet<T> toSet(const QList<T> &list)
{
    QSet<T> set;
    set.reserve(list.size());
    for (const T &item : list)
        set.insert(item);
    return set;
}

// The UUID as 36 characters, without the braces of QUuid::toString()
// (QUuid::WithoutBraces is Qt 5.11).
inline QString withoutBraces(const QUuid &uuid)
{
    return uuid.toString().mid(1, 36);
}

// QNetworkRequest::setTransferTimeout is Qt 5.15.  The same on every Qt:
// REPLY, just sent, is aborted (QNetworkReply::OperationCanceledError) when
// it has sent and received nothing for MS milliseconds (0: never).
void abortWhenStalled(QNetworkReply *reply, int ms);

} // namespace ns8m
