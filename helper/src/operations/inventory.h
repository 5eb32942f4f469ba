// Manager.Inventory: every NS7 application the migration knows of, with
// where it stands, and whether nothing is left to migrate (then the helper
// leaves the cluster by itself: the end of the migration).
#pragma once

#include "profile/catalog.h"
#include "store/statedb.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace ns8m {

struct Context;

// An app that has a profile and an App object.
struct InstalledApp {
    QString id;
    QString name;
    QString path; // its App object
    AppStatus status = AppStatus::NotMigrated;
    QString providerKind; // the profile's detect: account_provider ("" for other apps)
};

struct InventoryItem {
    QString id;
    QString name;
    LangTexts names; // the name in every language of the page
    // migratable: a profile migrates it (appStatus says how far);
    // not_installed; not_available: installed, not in use (nothing to move);
    // unsupported: installed, this version cannot migrate it yet;
    // kept: nothing to move, NS8 uses it as it is (a remote provider).
    QString status;
    LangTexts reason;
    QString appPath = QStringLiteral("/");
    QString appStatus; // the App's Status, "" without an App
    QString appId;     // the App's id, "" without an App
    bool provider = false; // the account provider: migrated last
};

// A catalog app's status on NS7 (not_installed, not_available, unsupported).
QString catalogAppStatus(const Context &ctx, const CatalogApp &app);

// The catalog's apps (those with a profile replaced by their App), then the
// account provider.
QList<InventoryItem> buildInventory(const Context &ctx, const QList<InstalledApp> &apps);

// The names of the apps of ITEMS, other than ID, that are still to be
// migrated or skipped (an app with order: last waits for them).  Apps this
// version cannot migrate do not count: nothing here can move them.
QStringList appsBefore(const QList<InventoryItem> &items, const QString &id);

// True when the migration is over: something was migrated, and every item
// is migrated, skipped, not installed, not in use or kept; an unsupported
// one (a local account provider among them) keeps NS7 needed.
bool migrationComplete(const QList<InventoryItem> &items);

} // namespace ns8m
