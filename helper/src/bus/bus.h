// sd-bus driven from the Qt event loop, plus the small pieces every D-Bus
// object of the helper shares: error names, option dictionaries, replies.
#pragma once

#include "bus/sdbus.h"
#include "core/errors.h"
#include "core/text.h"

#include <QMap>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVariantMap>

#include <functional>

class QSocketNotifier;
class QTimer;

namespace ns8m {

inline constexpr const char *kBusName = "org.nethserver.Ns8Migration1";
inline constexpr const char *kRootPath = "/org/nethserver/Ns8Migration1";
inline constexpr const char *kManagerIface = "org.nethserver.Ns8Migration1.Manager";
inline constexpr const char *kAppIface = "org.nethserver.Ns8Migration1.App";
// The object of the app ID: <root>/apps/<id>.
inline QString appPath(const QString &id)
{
    return QLatin1String(kRootPath) + QStringLiteral("/apps/") + id;
}
inline constexpr const char *kJobIface = "org.nethserver.Ns8Migration1.Job";

// A D-Bus error to send back: a name and a sentence a person can act on.
using BusError = Failure;

// Owns the connection and keeps sd-bus fed from the Qt event loop: its fd
// in a QSocketNotifier, its timeout in a QTimer, and a look at both before
// the loop goes to sleep so queued messages are always flushed.
class Bus : public QObject
{
    Q_OBJECT
public:
    explicit Bus(QObject *parent = nullptr);
    ~Bus() override;

    // Connects to ADDRESS, or to the system bus when it is empty.
    bool open(const QString &address, QString *error);
    sd_bus *handle() const { return m_bus; }

    bool requestName(const char *name, QString *error);
    void emitPropertiesChanged(const QString &path, const char *iface, const QStringList &names);
    void emitObjectAdded(const QString &path);
    void emitObjectRemoved(const QString &path);

signals:
    void disconnected(const QString &reason);

private:
    void process();
    void rearm();

    sd_bus *m_bus = nullptr;
    QSocketNotifier *m_read = nullptr;
    QSocketNotifier *m_write = nullptr;
    QTimer *m_timer = nullptr;
    bool m_processing = false;
};

// One accepted option of a method's a{sv} dictionary.
struct OptionSpec {
    const char *name;
    char type; // D-Bus basic type: 's', 'b', 'u', 't', 'i', 'x', 'd'
    int maxLength = 4096; // for strings, in bytes
};

// Reads an a{sv} argument and checks it against SPECS: unknown keys, wrong
// types, over-long strings and repeated keys are refused with
// Error.InvalidArgument before anything is done.
bool readOptions(sd_bus_message *m, const QList<OptionSpec> &specs, QVariantMap *out,
                 BusError *error);

// A property getter of an object's vtable (sd_bus_property_get_t), static
// in the object's getter struct: NS8M_BUS_GETTER(state) { return ...; }
#define NS8M_BUS_GETTER(name)                                                                                     \
    static int name(sd_bus *, const char *, const char *, const char *, sd_bus_message *reply, void *userdata, \
                    sd_bus_error *)

// Replies to CALL with ERROR; returns what an sd-bus handler returns.
int replyError(sd_bus_message *call, const BusError &error);
// LIST as as.
int appendStrings(sd_bus_message *reply, const QStringList &list);
// An a{sv} of strings and booleans (the administrator's field values).
int appendValues(sd_bus_message *reply, const QVariantMap &values);
// {id: {language: text}} as a{sa{ss}}.
int appendTextMap(sd_bus_message *reply, const QMap<QString, QMap<QString, QString>> &texts);
// TEXT as (ssas): id, English template, arguments.
int appendText(sd_bus_message *reply, const Text &text);
// TEXTS as a(ssas): (id, English template, arguments) each.
int appendTexts(sd_bus_message *reply, const Texts &texts);

// The uid of the sender of M, or -1 when the bus does not say.
qint64 senderUid(sd_bus_message *m);

// Owns a reference to a method call until the reply is sent, for replies
// that come later (after polkit has answered).
class PendingCall
{
public:
    explicit PendingCall(sd_bus_message *m) : m_msg(sd_bus_message_ref(m)) {}
    PendingCall(const PendingCall &o) : m_msg(sd_bus_message_ref(o.m_msg)) {}
    PendingCall &operator=(const PendingCall &) = delete;
    ~PendingCall() { sd_bus_message_unref(m_msg); }
    sd_bus_message *msg() const { return m_msg; }

private:
    sd_bus_message *m_msg;
};

QString fromUtf8(const char *s);

} // namespace ns8m
