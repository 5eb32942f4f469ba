#include "operations/inventory.h"

#include "ns7/accountprovider.h"
#include "ns7/esmithdb.h"
#include "operations/context.h"

#include <QFileInfo>
#include <QHash>

namespace ns8m {

namespace {

// NS7's e-smith database NAME, read once for the whole inventory.
const EsmithDb &esmithDb(const Context &ctx, const QString &name, QHash<QString, EsmithDb> *dbs)
{
    if (!dbs->contains(name))
        dbs->insert(name, EsmithDb::load(ctx.pathUnderRoot(QStringLiteral("/var/lib/nethserver/db/") + name)));
    return *dbs->find(name);
}

QString catalogStatus(const Context &ctx, const CatalogApp &a, QHash<QString, EsmithDb> *dbs)
{
    if (!a.detectPath.isEmpty())
        return QFileInfo::exists(ctx.pathUnderRoot(a.detectPath)) ? QStringLiteral("unsupported") : QStringLiteral("not_installed");
    const std::optional<EsmithRecord> rec = esmithDb(ctx, a.detectDatabase, dbs).record(a.detectKey);
    if (!rec)
        return QStringLiteral("not_installed");
    if (a.checkAvailable) {
        if (!a.availableStatus.isEmpty() && rec->prop(QStringLiteral("status")) != a.availableStatus)
            return QStringLiteral("not_available");
        for (const QString &p : a.availableProps)
            if (rec->prop(p).trimmed().isEmpty())
                return QStringLiteral("not_available");
    }
    return QStringLiteral("unsupported");
}

InventoryItem appItem(const InstalledApp &a)
{
    InventoryItem item;
    item.id = a.id;
    item.name = a.name;
    item.names = {{QStringLiteral("en"), a.name}, {QStringLiteral("it"), a.name}};
    item.status = QStringLiteral("migratable");
    item.appPath = a.path;
    item.appStatus = toString(a.status);
    item.appId = a.id;
    return item;
}

// The account provider's row: the App that migrates it when a profile
// detects this kind, the catalog's entry for the kind otherwise.
InventoryItem providerItem(const Context &ctx, const AccountProvider &provider, const QList<InstalledApp> &apps)
{
    const QString fallbackName = QStringLiteral("Account provider: ") + provider.describe();
    const CatalogProvider fallback{fallbackName,
                                   {{QStringLiteral("en"), fallbackName}, {QStringLiteral("it"), fallbackName}},
                                   provider.isLocal() ? QStringLiteral("unsupported") : QStringLiteral("kept"),
                                   {}};
    const CatalogProvider p = ctx.catalog.providers.value(provider.kindName(), fallback);
    InventoryItem item;
    item.id = QStringLiteral("account-provider");
    item.name = p.name;
    item.names = p.names;
    item.status = p.status;
    item.reason = p.reason;
    for (const InstalledApp &a : apps)
        if (!a.providerKind.isEmpty() && a.providerKind == provider.kindName()) {
            item = appItem(a);
            item.id = QStringLiteral("account-provider"); // the row keeps its id: the page knows no app
            item.names = p.names.isEmpty() ? item.names : p.names;
        }
    item.provider = true;
    return item;
}

} // namespace

QList<InventoryItem> buildInventory(const Context &ctx, const QList<InstalledApp> &apps)
{
    QList<InventoryItem> items;
    for (const InstalledApp &a : apps)
        if (a.providerKind.isEmpty())
            items.append(appItem(a));
    QHash<QString, EsmithDb> dbs;
    for (const CatalogApp &c : ctx.catalog.apps) {
        if (ctx.profile(c.id))
            continue; // its profile's App is listed
        InventoryItem item;
        item.id = c.id;
        item.name = c.name;
        item.names = c.names;
        item.status = catalogStatus(ctx, c, &dbs);
        if (item.status == u"unsupported")
            item.reason = c.reason;
        items.append(item);
    }
    const AccountProvider provider =
        readAccountProvider(esmithDb(ctx, QStringLiteral("configuration"), &dbs));
    if (provider.kind == AccountProvider::Kind::None)
        return items;
    items.append(providerItem(ctx, provider, apps));
    return items;
}

QStringList appsBefore(const QList<InventoryItem> &items, const QString &id)
{
    QStringList names;
    for (const InventoryItem &i : items)
        if (i.appId != id && i.status == u"migratable" && i.appStatus != u"migrated" && i.appStatus != u"skipped")
            names.append(i.name);
    return names;
}

bool migrationComplete(const QList<InventoryItem> &items)
{
    bool migrated = false;
    for (const InventoryItem &i : items) {
        if (i.status == u"migratable") {
            if (i.appStatus == u"migrated")
                migrated = true;
            else if (i.appStatus != u"skipped")
                return false;
        } else if (i.status == u"unsupported") {
            return false;
        }
    }
    return migrated;
}

QString catalogAppStatus(const Context &ctx, const CatalogApp &app)
{
    QHash<QString, EsmithDb> dbs;
    return catalogStatus(ctx, app, &dbs);
}

} // namespace ns8m
