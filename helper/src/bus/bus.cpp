#include "bus/bus.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QSet>
#include <QSocketNotifier>
#include <QTimer>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <poll.h>
#include <vector>

namespace ns8m {

QString fromUtf8(const char *s)
{
    return s ? QString::fromUtf8(s) : QString();
}

Bus::Bus(QObject *parent) : QObject(parent) {}

Bus::~Bus()
{
    if (m_bus) {
        sd_bus_flush(m_bus);
        sd_bus_close(m_bus);
        sd_bus_unref(m_bus);
    }
}

bool Bus::open(const QString &address, QString *error)
{
    int r = 0;
    if (address.isEmpty()) {
        r = sd_bus_open_system(&m_bus);
    } else {
        r = sd_bus_new(&m_bus);
        if (r >= 0)
            r = sd_bus_set_address(m_bus, address.toUtf8().constData());
        if (r >= 0)
            r = sd_bus_set_bus_client(m_bus, 1);
        if (r >= 0)
            r = sd_bus_negotiate_creds(m_bus, 1, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID);
        if (r >= 0)
            r = sd_bus_start(m_bus);
    }
    if (r < 0) {
        *error = QStringLiteral("cannot connect to the %1 bus: %2")
                     .arg(address.isEmpty() ? QStringLiteral("system") : address,
                          QString::fromUtf8(std::strerror(-r)));
        return false;
    }
    const int fd = sd_bus_get_fd(m_bus);
    m_read = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    m_write = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    m_write->setEnabled(false);
    m_timer = new QTimer(this);
    m_timer->setSingleShot(true);
    connect(m_read, &QSocketNotifier::activated, this, &Bus::process);
    connect(m_write, &QSocketNotifier::activated, this, &Bus::process);
    connect(m_timer, &QTimer::timeout, this, &Bus::process);
    // Messages queued by code outside process() (signals, late replies) are
    // written when the loop is about to sleep.
    connect(QAbstractEventDispatcher::instance(), &QAbstractEventDispatcher::aboutToBlock, this,
            &Bus::rearm);
    QTimer::singleShot(0, this, &Bus::process);
    return true;
}

bool Bus::requestName(const char *name, QString *error)
{
    const int r = sd_bus_request_name(m_bus, name, 0);
    if (r < 0) {
        *error = QStringLiteral("cannot own %1 on the bus: %2")
                     .arg(QString::fromLatin1(name), QString::fromUtf8(std::strerror(-r)));
        return false;
    }
    return true;
}

void Bus::process()
{
    if (!m_bus || m_processing)
        return;
    m_processing = true;
    for (;;) {
        const int r = sd_bus_process(m_bus, nullptr);
        if (r < 0) {
            m_processing = false;
            m_read->setEnabled(false);
            m_write->setEnabled(false);
            m_timer->stop();
            emit disconnected(QString::fromUtf8(std::strerror(-r)));
            return;
        }
        if (r == 0)
            break;
    }
    m_processing = false;
    rearm();
}

void Bus::rearm()
{
    if (!m_bus || !m_read || !m_read->isEnabled())
        return;
    const int events = sd_bus_get_events(m_bus);
    if (events < 0)
        return;
    m_write->setEnabled((events & POLLOUT) != 0);
    uint64_t until = 0;
    if (sd_bus_get_timeout(m_bus, &until) < 0 || until == UINT64_MAX) {
        m_timer->stop();
        return;
    }
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    const uint64_t now = uint64_t(ts.tv_sec) * 1000000u + uint64_t(ts.tv_nsec) / 1000u;
    const uint64_t ms = until > now ? (until - now + 999) / 1000 : 0;
    m_timer->start(int(qMin<uint64_t>(ms, 60000)));
}

void Bus::emitPropertiesChanged(const QString &path, const char *iface, const QStringList &names)
{
    if (!m_bus || names.isEmpty())
        return;
    std::vector<QByteArray> keep;
    std::vector<char *> strv;
    keep.reserve(size_t(names.size()));
    for (const QString &n : names) {
        keep.push_back(n.toUtf8());
        strv.push_back(keep.back().data());
    }
    strv.push_back(nullptr);
    sd_bus_emit_properties_changed_strv(m_bus, path.toUtf8().constData(), iface, strv.data());
}

void Bus::emitObjectAdded(const QString &path)
{
    if (m_bus)
        sd_bus_emit_object_added(m_bus, path.toUtf8().constData());
}

void Bus::emitObjectRemoved(const QString &path)
{
    if (m_bus)
        sd_bus_emit_object_removed(m_bus, path.toUtf8().constData());
}

namespace {

// "Option NAME must be ..., not of type GIVEN.", by the type it must be.
Text wrongType(char t)
{
    switch (t) {
    case 's': return Text("bus.option.type.s", "Option \"%1\" must be a string (s), not of type \"%2\".");
    case 'b': return Text("bus.option.type.b", "Option \"%1\" must be a boolean (b), not of type \"%2\".");
    case 'u': return Text("bus.option.type.u", "Option \"%1\" must be an unsigned 32-bit integer (u), not of type \"%2\".");
    case 't': return Text("bus.option.type.t", "Option \"%1\" must be an unsigned 64-bit integer (t), not of type \"%2\".");
    case 'i': return Text("bus.option.type.i", "Option \"%1\" must be a 32-bit integer (i), not of type \"%2\".");
    case 'x': return Text("bus.option.type.x", "Option \"%1\" must be a 64-bit integer (x), not of type \"%2\".");
    case 'd': return Text("bus.option.type.d", "Option \"%1\" must be a number (d), not of type \"%2\".");
    default: return Text("bus.option.type", "Option \"%1\" must be a basic value, not of type \"%2\".");
    }
}

BusError invalid(const Text &text)
{
    return {Error::InvalidArgument, text};
}

} // namespace

namespace {

const Text kMalformed("bus.options.malformed", "The options dictionary is malformed.");

// The spec of option NAME; null with *error set when the method has none.
const OptionSpec *findSpec(const QList<OptionSpec> &specs, const QString &name, BusError *error)
{
    for (const OptionSpec &s : specs)
        if (name == QLatin1String(s.name))
            return &s;
    QStringList names;
    for (const OptionSpec &s : specs)
        names.append(QString::fromLatin1(s.name));
    const QString shown = name.size() > 64 ? name.left(64) + QStringLiteral("…") : name;
    *error = invalid(names.isEmpty() ? Text("bus.option.unknown-none", "Unknown option \"%1\": this method takes no options.").arg(shown)
                                     : Text("bus.option.unknown", "Unknown option \"%1\". Accepted options: %2.")
                                           .arg(shown)
                                           .arg(names.join(QStringLiteral(", "))));
    return nullptr;
}

// Reads one basic value of TYPE, the message inside the variant.
int readBasic(sd_bus_message *m, char type, QVariant *value, const char **text)
{
    int r = -EINVAL;
    switch (type) {
    case 's': r = sd_bus_message_read_basic(m, 's', text); *value = QString::fromUtf8(*text); break;
    case 'b': { int b = 0; r = sd_bus_message_read_basic(m, 'b', &b); *value = b != 0; break; }
    case 'u': { uint32_t u = 0; r = sd_bus_message_read_basic(m, 'u', &u); *value = quint64(u); break; }
    case 't': { uint64_t t = 0; r = sd_bus_message_read_basic(m, 't', &t); *value = quint64(t); break; }
    case 'i': { int32_t i = 0; r = sd_bus_message_read_basic(m, 'i', &i); *value = qint64(i); break; }
    case 'x': { int64_t x = 0; r = sd_bus_message_read_basic(m, 'x', &x); *value = qint64(x); break; }
    case 'd': { double d = 0; r = sd_bus_message_read_basic(m, 'd', &d); *value = d; break; }
    default: break;
    }
    return r;
}

// The variant of option NAME, checked against SPEC (type, length).
bool readValue(sd_bus_message *m, const OptionSpec &spec, const QString &name, QVariant *value, BusError *error)
{
    char vtype = 0;
    const char *contents = nullptr;
    if (sd_bus_message_peek_type(m, &vtype, &contents) < 0 || vtype != 'v' || !contents) {
        *error = invalid(kMalformed);
        return false;
    }
    if (std::strlen(contents) != 1 || contents[0] != spec.type) {
        *error = invalid(wrongType(spec.type).arg(name).arg(QString::fromUtf8(contents)));
        return false;
    }
    const char sig[2] = {spec.type, 0};
    const char *text = nullptr;
    if (sd_bus_message_enter_container(m, 'v', sig) < 0 || readBasic(m, spec.type, value, &text) < 0
        || sd_bus_message_exit_container(m) < 0) {
        *error = invalid(kMalformed);
        return false;
    }
    if (text && std::strlen(text) > size_t(spec.maxLength)) {
        *error = invalid(Text("bus.option.too-long", "Option \"%1\" is too long: at most %2 bytes.").arg(name).arg(spec.maxLength));
        return false;
    }
    return true;
}

} // namespace

bool readOptions(sd_bus_message *m, const QList<OptionSpec> &specs, QVariantMap *out,
                 BusError *error)
{
    if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0) {
        *error = invalid(Text("bus.options.not-dict", "The options must be a dictionary of type a{sv}."));
        return false;
    }
    for (;;) {
        const int r = sd_bus_message_enter_container(m, 'e', "sv");
        const char *key = nullptr;
        if (r < 0 || (r > 0 && sd_bus_message_read(m, "s", &key) < 0)) {
            *error = invalid(kMalformed);
            return false;
        }
        if (r == 0)
            break;
        const QString name = fromUtf8(key);
        const OptionSpec *spec = findSpec(specs, name, error);
        if (!spec)
            return false;
        if (out->contains(name)) {
            *error = invalid(Text("bus.option.twice", "Option \"%1\" is given twice.").arg(name));
            return false;
        }
        QVariant value;
        if (!readValue(m, *spec, name, &value, error))
            return false;
        if (sd_bus_message_exit_container(m) < 0) {
            *error = invalid(kMalformed);
            return false;
        }
        out->insert(name, value);
    }
    if (sd_bus_message_exit_container(m) < 0) {
        *error = invalid(kMalformed);
        return false;
    }
    return true;
}

int replyError(sd_bus_message *call, const BusError &error)
{
    return sd_bus_reply_method_errorf(call, error.name.toUtf8().constData(), "%s",
                                      error.message.toUtf8().constData());
}

qint64 senderUid(sd_bus_message *m)
{
    sd_bus_creds *creds = nullptr;
    if (sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds) < 0)
        return -1;
    uid_t uid = 0;
    qint64 out = -1;
    if (sd_bus_creds_get_euid(creds, &uid) >= 0)
        out = uid;
    else if (sd_bus_creds_get_uid(creds, &uid) >= 0)
        out = uid;
    sd_bus_creds_unref(creds);
    return out;
}

int appendStrings(sd_bus_message *reply, const QStringList &list)
{
    int r = sd_bus_message_open_container(reply, 'a', "s");
    for (const QString &s : list)
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", s.toUtf8().constData());
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

// An a{sv} of strings and booleans (the administrator's field values).
int appendValues(sd_bus_message *reply, const QVariantMap &values)
{
    int r = sd_bus_message_open_container(reply, 'a', "{sv}");
    for (auto it = values.constBegin(); r >= 0 && it != values.constEnd(); ++it) {
        const QByteArray key = it.key().toUtf8();
        if (it.value().userType() == QMetaType::Bool)
            r = sd_bus_message_append(reply, "{sv}", key.constData(), "b", int(it.value().toBool()));
        else
            r = sd_bus_message_append(reply, "{sv}", key.constData(), "s", it.value().toString().toUtf8().constData());
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int appendTextMap(sd_bus_message *reply, const QMap<QString, QMap<QString, QString>> &texts)
{
    int r = sd_bus_message_open_container(reply, 'a', "{sa{ss}}");
    for (auto it = texts.constBegin(); r >= 0 && it != texts.constEnd(); ++it) {
        r = sd_bus_message_open_container(reply, 'e', "sa{ss}");
        if (r >= 0)
            r = sd_bus_message_append(reply, "s", it.key().toUtf8().constData());
        if (r >= 0)
            r = sd_bus_message_open_container(reply, 'a', "{ss}");
        for (auto l = it->constBegin(); r >= 0 && l != it->constEnd(); ++l)
            r = sd_bus_message_append(reply, "{ss}", l.key().toUtf8().constData(), l->toUtf8().constData());
        for (int i = 0; i < 2 && r >= 0; ++i)
            r = sd_bus_message_close_container(reply);
    }
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int appendText(sd_bus_message *reply, const Text &text)
{
    int r = sd_bus_message_open_container(reply, 'r', "ssas");
    if (r >= 0)
        r = sd_bus_message_append(reply, "ss", text.id.toUtf8().constData(), text.tmpl.toUtf8().constData());
    if (r >= 0)
        r = appendStrings(reply, text.args);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

int appendTexts(sd_bus_message *reply, const Texts &texts)
{
    int r = sd_bus_message_open_container(reply, 'a', "(ssas)");
    for (const Text &t : texts)
        if (r >= 0)
            r = appendText(reply, t);
    return r < 0 ? r : sd_bus_message_close_container(reply);
}

} // namespace ns8m
