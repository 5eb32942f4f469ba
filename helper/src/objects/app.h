// An application installed on NS7, at /org/nethserver/Ns8Migration1/apps/<id>:
// the bus adapter of its Migration (operations/migration.h).
#pragma once

#include "bus/bus.h"
#include "profile/appprofile.h"

#include <QObject>

namespace ns8m {

struct Context;
class Migration;

class App : public QObject
{
    Q_OBJECT
public:
    App(Context *ctx, AppProfile profile, QObject *parent = nullptr);
    ~App() override;

    bool publish(QString *error);
    QString path() const;
    Context *ctx() const { return m_ctx; }
    Migration *migration() const { return m_migration; }

private:
    Context *m_ctx;
    Migration *m_migration;
    sd_bus_slot *m_slot = nullptr;
};

} // namespace ns8m
