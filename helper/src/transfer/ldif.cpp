#include "transfer/ldif.h"

#include "core/qtcompat.h"

#include <QDate>
#include <QIODevice>
#include <QStringList>

#include <utility>

namespace ns8m {

namespace {

// What slapadd takes besides the schema's attributes (slapcat writes them).
const QSet<QByteArray> &operationalAttributes()
{
    static const QSet<QByteArray> names{"structuralobjectclass", "entryuuid", "creatorsname",
                                        "createtimestamp", "entrycsn", "modifiersname",
                                        "modifytimestamp"};
    return names;
}

// The attribute type without its options, in lower case.
QByteArray baseName(const QByteArray &name)
{
    const Size semi = name.indexOf(';');
    return (semi < 0 ? name : name.left(semi)).toLower();
}

void chopLineEnd(QByteArray *line)
{
    if (line->endsWith('\n'))
        line->chop(1);
    if (line->endsWith('\r'))
        line->chop(1);
}

// "dc=Directory,dc=NH" under or equal to SUFFIX (lower case): the part
// before it ("" for the suffix itself), or a null array.
QByteArray underSuffix(const QByteArray &dn, const QByteArray &suffix)
{
    if (suffix.isEmpty())
        return QByteArray();
    const QByteArray lower = dn.toLower();
    if (lower == suffix)
        return QByteArray("");
    if (lower.endsWith(',' + suffix))
        return dn.left(dn.size() - suffix.size());
    return QByteArray();
}

QByteArray rewriteDn(const QByteArray &dn, const LdifFix &fix)
{
    const QByteArray head = underSuffix(dn, fix.oldSuffix.toLower());
    return head.isNull() ? dn : head + fix.newSuffix;
}

QByteArray generalizedDay(qint64 days)
{
    const QDate day = QDate(1970, 1, 1).addDays(days);
    return day.toString(QStringLiteral("yyyyMMdd")).toLatin1() + "000000Z";
}

// The classes of ENTRY that FIX's schema knows (lower case); the others are
// removed from it and counted.
QSet<QByteArray> keepKnownClasses(LdifEntry *entry, const LdifFix &fix, LdifFixStats *stats)
{
    QSet<QByteArray> kept;
    QList<LdifAttribute> attributes;
    for (const LdifAttribute &a : std::as_const(entry->attributes)) {
        if (baseName(a.name) == "objectclass") {
            const QByteArray cls = a.value.trimmed().toLower();
            if (!fix.schema.contains(cls)) {
                stats->droppedClasses.insert(a.value.trimmed());
                continue;
            }
            kept.insert(cls);
        }
        attributes.append(a);
    }
    entry->attributes = attributes;
    return kept;
}

void keepAllowedAttributes(LdifEntry *entry, const QSet<QByteArray> &classes, const LdifFix &fix,
                           LdifFixStats *stats)
{
    QSet<QByteArray> allowed = operationalAttributes();
    allowed.insert("objectclass");
    for (const QByteArray &cls : classes)
        allowed.unite(fix.schema.value(cls));
    QList<LdifAttribute> attributes;
    for (const LdifAttribute &a : std::as_const(entry->attributes)) {
        if (allowed.contains(baseName(a.name)))
            attributes.append(a);
        else
            stats->droppedAttributes.insert(a.name);
    }
    entry->attributes = attributes;
}

// NS8's password policy attributes from NS7's shadow ones (ORIGINAL: the
// entry before the attributes were dropped).
void addPolicyAttributes(LdifEntry *entry, const LdifEntry &original)
{
    const QByteArray lastChange = original.value("shadowLastChange").trimmed();
    bool number = false;
    const qint64 days = lastChange.toLongLong(&number);
    if (number && days >= 0 && original.value("shadowMax").trimmed() != "99999")
        entry->attributes.append(LdifAttribute{"pwdChangedTime", generalizedDay(days)});
    if (original.value("userPassword").startsWith("{CRYPT}!"))
        entry->attributes.append(LdifAttribute{"pwdAccountLockedTime", "000001010000Z"});
}

void addDisplayName(LdifEntry *entry, const LdifEntry &original)
{
    if (entry->has("displayName"))
        return;
    for (const char *from : {"cn", "gecos", "uid"}) {
        const QByteArray v = original.value(from);
        if (!v.trimmed().isEmpty()) {
            entry->attributes.append(LdifAttribute{"displayName", v});
            return;
        }
    }
}

void rewriteSuffix(LdifEntry *entry, const LdifFix &fix)
{
    const bool top = entry->dn.toLower() == fix.oldSuffix.toLower();
    entry->dn = rewriteDn(entry->dn, fix);
    const QByteArray firstRdn = fix.newSuffix.left(fix.newSuffix.indexOf(','));
    const QByteArray firstLabel = firstRdn.mid(firstRdn.indexOf('=') + 1);
    for (LdifAttribute &a : entry->attributes) {
        if (top && baseName(a.name) == "dc")
            a.value = firstLabel;
        else
            a.value = rewriteDn(a.value, fix);
    }
}

} // namespace

QByteArray LdifEntry::value(const QByteArray &name) const
{
    const QByteArray wanted = name.toLower();
    for (const LdifAttribute &a : attributes)
        if (baseName(a.name) == wanted)
            return a.value;
    return QByteArray();
}

// One logical line (continuations joined), comments skipped; an empty one
// ends an entry.  False at the end of the input.
bool LdifReader::readLogicalLine(QByteArray *line)
{
    for (;;) {
        QByteArray first;
        if (m_havePending) {
            first = m_pending;
            m_havePending = false;
            m_logicalLine = m_pendingLine;
        } else if (m_in->atEnd()) {
            return false;
        } else {
            first = m_in->readLine();
            m_logicalLine = ++m_line;
            chopLineEnd(&first);
        }
        while (!m_in->atEnd()) {
            QByteArray next = m_in->readLine();
            ++m_line;
            chopLineEnd(&next);
            if (!next.startsWith(' ')) {
                m_pending = next;
                m_pendingLine = m_line;
                m_havePending = true;
                break;
            }
            first += next.mid(1);
        }
        if (!first.startsWith('#')) {
            *line = first;
            return true;
        }
    }
}

bool LdifReader::parseLine(const QByteArray &line, LdifEntry *entry)
{
    const Size colon = line.indexOf(':');
    if (colon <= 0) {
        m_error = QStringLiteral("line %1: not an LDIF attribute line").arg(m_logicalLine);
        return false;
    }
    const QByteArray name = line.left(colon).trimmed();
    QByteArray value;
    if (line.mid(colon + 1).startsWith(':')) {
        value = QByteArray::fromBase64(line.mid(colon + 2).trimmed());
    } else if (line.mid(colon + 1).startsWith('<')) {
        m_error = QStringLiteral("line %1: a value from a URL is not taken").arg(m_logicalLine);
        return false;
    } else {
        value = line.mid(colon + 1);
        Size spaces = 0;
        while (spaces < value.size() && value.at(spaces) == ' ')
            ++spaces;
        value = value.mid(spaces);
    }
    if (entry->dn.isNull() && entry->attributes.isEmpty()) {
        if (name.toLower() == "version")
            return true;
        if (name.toLower() != "dn") {
            m_error = QStringLiteral("line %1: an entry starts with dn:").arg(m_logicalLine);
            return false;
        }
        entry->dn = value;
        return true;
    }
    if (name.toLower() == "changetype") {
        m_error = QStringLiteral("line %1: change records are not taken").arg(m_logicalLine);
        return false;
    }
    entry->attributes.append({name, value});
    return true;
}

bool LdifReader::next(LdifEntry *entry)
{
    *entry = LdifEntry();
    QByteArray line;
    while (readLogicalLine(&line)) {
        if (line.isEmpty()) {
            if (!entry->dn.isNull())
                return true;
            continue;
        }
        if (!parseLine(line, entry))
            return false;
    }
    return !entry->dn.isNull();
}

bool ldifSafeValue(const QByteArray &value)
{
    if (value.isEmpty())
        return true;
    const char first = value.at(0);
    if (first == ' ' || first == ':' || first == '<' || value.endsWith(' '))
        return false;
    for (const char c : value) {
        const auto u = static_cast<unsigned char>(c);
        if (u == 0 || u == '\n' || u == '\r' || u >= 0x80)
            return false;
    }
    return true;
}

QByteArray ldifText(const LdifEntry &entry)
{
    auto line = [](const QByteArray &name, const QByteArray &value) {
        if (ldifSafeValue(value))
            return name + ": " + value + '\n';
        return name + ":: " + value.toBase64() + '\n';
    };
    QByteArray out = line("dn", entry.dn);
    for (const LdifAttribute &a : entry.attributes)
        out += line(a.name, a.value);
    return out + '\n';
}

QByteArray ldapSuffixOf(const QString &domain)
{
    QStringList parts;
    for (const QString &label : domain.split(u'.', SkipEmptyParts))
        parts.append(QStringLiteral("dc=") + label);
    return parts.join(u',').toUtf8();
}

bool fixLdifEntry(LdifEntry *entry, const LdifFix &fix, LdifFixStats *stats)
{
    const LdifEntry original = *entry;
    QSet<QByteArray> classes = keepKnownClasses(entry, fix, stats);
    if ((classes - QSet<QByteArray>{"top"}).isEmpty()) {
        ++stats->dropped;
        return false;
    }
    keepAllowedAttributes(entry, classes, fix, stats);
    if (classes.contains("posixaccount"))
        addPolicyAttributes(entry, original);
    if (classes.contains("inetorgperson"))
        addDisplayName(entry, original);
    rewriteSuffix(entry, fix);
    ++stats->entries;
    return true;
}

bool fixLdif(QIODevice *in, QIODevice *out, const LdifFix &fix, LdifFixStats *stats, QString *error)
{
    LdifReader reader(in);
    LdifEntry entry;
    while (reader.next(&entry)) {
        if (!fixLdifEntry(&entry, fix, stats))
            continue;
        const QByteArray text = ldifText(entry);
        if (out->write(text) != text.size()) {
            *error = QStringLiteral("cannot write the LDIF: %1").arg(out->errorString());
            return false;
        }
    }
    if (!reader.error().isEmpty()) {
        *error = reader.error();
        return false;
    }
    return true;
}

} // namespace ns8m
