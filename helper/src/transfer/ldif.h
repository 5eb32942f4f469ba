// LDIF (RFC 2849) as slapcat writes it, read and written one entry at a
// time, and the fixes an NS7 directory needs before NS8's openldap module
// loads it (docs/app-profiles.md, "Files made by the helper").
//
// The reader takes continuation lines (a line starting with one space goes
// on the previous one), comments, CRLF line ends, plain values and base64
// ones (`attr:: …`, any bytes, not only UTF-8); a value from a URL
// (`attr:< …`) and change records are refused with the line.  The writer
// writes a value plainly when RFC 2849 allows it (a SAFE-STRING) and in
// base64 otherwise, one line per value.
//
// The fix (fixLdifEntry()) keeps the object classes of a schema (class →
// the attributes it allows, given by the profile) and the attributes they
// allow, plus the operational ones slapadd takes (entryUUID, the creator
// and modifier, their times, entryCSN, structuralObjectClass); an entry
// left without a class other than `top` is dropped.  Then, as NS7's own
// migration does for NS8's schema:
//   - posixAccount: `pwdChangedTime` (GeneralizedTime, midnight UTC) from
//     `shadowLastChange` (days since 1970), unless `shadowMax` is 99999 (the
//     password never expires); `pwdAccountLockedTime: 000001010000Z` when
//     `userPassword` starts with `{CRYPT}!` (a locked account);
//   - inetOrgPerson without `displayName`: one from `cn`, `gecos` or `uid`.
// Last, the suffix: the DN and every value that is a DN under the old
// suffix (member, manager, creatorsName, …; compared without regard to
// case) end in the new one, and the top entry's `dc` is the new suffix's
// first label.
#pragma once

#include <QByteArray>
#include <QHash>
#include <QList>
#include <QSet>
#include <QString>

class QIODevice;

namespace ns8m {

struct LdifAttribute {
    QByteArray name;  // as written, options included ("cn;lang-it")
    QByteArray value; // the value's bytes (base64 decoded)
};

struct LdifEntry {
    QByteArray dn;
    QList<LdifAttribute> attributes;

    // The first value of NAME (without regard to case), or a null array.
    QByteArray value(const QByteArray &name) const;
    bool has(const QByteArray &name) const { return !value(name).isNull(); }
};

// Reads entries from IN, one at a time.
class LdifReader
{
public:
    explicit LdifReader(QIODevice *in) : m_in(in) {}
    // The next entry: false at the end, or on an error (error() says it).
    bool next(LdifEntry *entry);
    QString error() const { return m_error; }

private:
    bool readLogicalLine(QByteArray *line);
    bool parseLine(const QByteArray &line, LdifEntry *entry);
    QIODevice *m_in;
    QByteArray m_pending; // a physical line read ahead
    bool m_havePending = false;
    qint64 m_line = 0;        // physical lines read
    qint64 m_pendingLine = 0; // the number of the line read ahead
    qint64 m_logicalLine = 0; // where the line being parsed starts
    QString m_error;
};

// ENTRY as LDIF, ending with the blank line that separates entries.
QByteArray ldifText(const LdifEntry &entry);
// True when VALUE may be written plainly (RFC 2849 SAFE-STRING).
bool ldifSafeValue(const QByteArray &value);

struct LdifFix {
    // Object class → the attributes it allows, all in lower case.
    QHash<QByteArray, QSet<QByteArray>> schema;
    QByteArray oldSuffix; // dc=directory,dc=nh
    QByteArray newSuffix; // dc=example,dc=org
};

struct LdifFixStats {
    qint64 entries = 0;  // entries written
    qint64 dropped = 0;  // entries left out
    QSet<QByteArray> droppedClasses;
    QSet<QByteArray> droppedAttributes;
};

// The LDAP suffix of a DNS domain: "example.org" → "dc=example,dc=org".
QByteArray ldapSuffixOf(const QString &domain);
// Fixes ENTRY in place; false when it is to be left out.
bool fixLdifEntry(LdifEntry *entry, const LdifFix &fix, LdifFixStats *stats);
// Reads IN, fixes every entry, writes OUT; false and *ERROR on a read or
// write error.
bool fixLdif(QIODevice *in, QIODevice *out, const LdifFix &fix, LdifFixStats *stats, QString *error);

} // namespace ns8m
