// A sentence for a person, by id.  The helper speaks English on the bus and
// in the log; a client that speaks another language translates the English
// TEMPLATE (with %1..%9 where the ARGS go) by its ID through its own
// catalog (the page: cockpit-plugin/po/, where the templates are msgids and
// the ids their contexts), then puts the arguments in.  Arguments are data
// (names, numbers, paths, what a remote system said) and stay as they are.
//
// Write one as Text("finish.done", "%1 was migrated to %2.").arg(name).arg(module):
// the id and the template are literals, so that the catalog's extractor
// (xgettext --keyword=Text:1c,2) finds them.
#pragma once

#include <QString>
#include <QStringList>

namespace ns8m {

struct Text {
    QString id;   // stable, dotted: "<operation>.<what>", e.g. "sync.done"
    QString tmpl; // English, with %1..%9
    QStringList args;

    Text() = default;
    Text(const char *id_, const char *tmpl_) : id(QString::fromUtf8(id_)), tmpl(QString::fromUtf8(tmpl_)) {}

    Text arg(const QString &a) const
    {
        Text t = *this;
        t.args.append(a);
        return t;
    }
    Text arg(const QString &a, const QString &b) const { return arg(a).arg(b); }
    Text arg(const QString &a, const QString &b, const QString &c) const { return arg(a).arg(b).arg(c); }
    Text arg(qint64 n) const { return arg(QString::number(n)); }
    Text arg(quint64 n) const { return arg(QString::number(n)); }
    Text arg(int n) const { return arg(QString::number(n)); }
    Text arg(uint n) const { return arg(QString::number(n)); }

    bool isEmpty() const { return tmpl.isEmpty(); }
    // The template with its arguments, in one pass (an argument that holds
    // "%1" stays as it is): %1..%9 name ARGS, any other '%' is itself.
    QString english() const
    {
        QString out;
        out.reserve(tmpl.size());
        for (int i = 0; i < tmpl.size(); ++i) {
            const QChar c = tmpl.at(i);
            const int n = i + 1 < tmpl.size() ? tmpl.at(i + 1).digitValue() : -1;
            if (c == u'%' && n >= 1 && n <= args.size()) {
                out += args.at(n - 1);
                ++i;
            } else {
                out += c;
            }
        }
        return out;
    }
};

// Sentences said one after the other (a failure, then what it left).
using Texts = QList<Text>;

inline QString english(const Texts &texts)
{
    QStringList parts;
    for (const Text &t : texts)
        if (!t.isEmpty())
            parts.append(t.english());
    return parts.join(u' ');
}

} // namespace ns8m
