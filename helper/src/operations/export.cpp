#include "operations/export.h"

#include "bus/bus.h"
#include "core/log.h"
#include "ns7/dbexport.h"
#include "operations/context.h"
#include "profile/appprofile.h"

#include <QDateTime>

#include <cstring>

namespace ns8m {

void replyExport(sd_bus_message *call, Context *ctx, const AppProfile &profile, const QVariantMap &options)
{
    if (profile.exports.isEmpty()) {
        replyError(call, {Error::WrongState, Text("export.none", "%1 has nothing to export.").arg(profile.name)});
        return;
    }
    MysqlClientOptions cnf;
    QString error;
    if (!loadMyCnf(ctx->pathUnderRoot(profile.dbCredentials), &cnf, &error)) {
        replyError(call, Failure::failed(Text("export.credentials", "Cannot read the database credentials in %1: %2.")
                                             .arg(profile.dbCredentials, error)));
        return;
    }
    const bool withSecrets = options.value(QStringLiteral("secrets")).toBool();
    const QString format = options.value(QStringLiteral("format"), QStringLiteral("json")).toString();
    QList<ExportedTable> tables;
    Failure failure;
    if (!readExportTables(profile.exports, cnf, withSecrets, &tables, &failure)) {
        replyError(call, failure);
        return;
    }
    QStringList unread;
    for (const ExportedTable &t : std::as_const(tables))
        if (!t.error.isEmpty())
            unread.append(t.id + QStringLiteral(" (") + t.error + u')');
    Log::info(QStringLiteral("%1: configuration exported as %2, credentials %3%4")
                  .arg(profile.name, format, withSecrets ? QStringLiteral("included") : QStringLiteral("masked"),
                       unread.isEmpty() ? QString() : QStringLiteral("; not read: ") + unread.join(QStringLiteral(", "))));
    const QMap<QString, QByteArray> files =
        exportFiles(profile.id, profile.name, profile.exports, tables, format, withSecrets,
                    QDateTime::currentMSecsSinceEpoch() * 1000);
    sd_bus_message *reply = nullptr;
    int r = sd_bus_message_new_method_return(call, &reply);
    if (r >= 0)
        r = sd_bus_message_open_container(reply, 'a', "{ss}");
    for (auto it = files.constBegin(); it != files.constEnd() && r >= 0; ++it)
        r = sd_bus_message_append(reply, "{ss}", it.key().toUtf8().constData(), it.value().constData());
    if (r >= 0)
        r = sd_bus_message_close_container(reply);
    if (r >= 0)
        r = sd_bus_send(nullptr, reply, nullptr);
    sd_bus_message_unref(reply);
    if (r < 0)
        Log::warning(QStringLiteral("%1: the export could not be sent: %2").arg(profile.name, QString::fromUtf8(strerror(-r))));
}

} // namespace ns8m
