// The catalog of NS7 applications (apps/catalog/ns7-apps.yaml): every app
// the migration knows of, how NS7 shows it is installed and in use, and,
// for the ones without a profile, why this version does not migrate them;
// and the account provider by kind.  Manager.Inventory is built from it.
#pragma once

#include <QMap>
#include <QString>
#include <QStringList>

#include <optional>

namespace ns8m {

// A sentence in every language of the page: "en", "it".
using LangTexts = QMap<QString, QString>;

struct CatalogApp {
    QString id;
    QString name;
    LangTexts names;        // the name in every language (name_it; en: name)
    QString detectDatabase; // installed when this e-smith record exists ...
    QString detectKey;
    QString detectPath;     // ... or when this NS7 path exists
    bool checkAvailable = false;    // in use only when (else "not_available"):
    QString availableStatus;        //   the record's status is this, and
    QStringList availableProps;     //   these properties are not empty
    LangTexts reason;       // why this version does not migrate it
};

struct CatalogProvider {
    QString name;
    LangTexts names;
    QString status; // "unsupported" or "kept"
    LangTexts reason;
};

struct Catalog {
    QList<CatalogApp> apps;
    // By AccountProvider kind: local_ldap, local_ad, remote_ldap, remote_ad.
    QMap<QString, CatalogProvider> providers;

    static std::optional<Catalog> parse(const QByteArray &yaml, const QString &file, QString *error);
    // A missing file is an empty catalog.
    static std::optional<Catalog> load(const QString &path, QString *error);
};

} // namespace ns8m
