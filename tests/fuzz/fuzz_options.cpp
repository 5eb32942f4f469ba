// libFuzzer target: the a{sv} option reader every method runs first
// (bus/bus.cpp readOptions): unknown keys, wrong types, repeated keys,
// over-long strings, a dictionary of the wrong type.
//
// sd-bus builds only well-formed messages, so the input is a recipe for
// one: its first byte picks the argument's signature (an a{sv} most of the
// time), then each entry is a key (one of the accepted names, or bytes of
// the input), a type and a value.  The message is sealed and read back as
// the helper reads a method call.
#include "bus/bus.h"

#include <QVariantMap>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace ns8m;

namespace {

struct Input {
    const uint8_t *p;
    size_t left;
    uint8_t byte() { return left ? (--left, *p++) : 0; }
    std::string bytes(size_t n)
    {
        n = std::min(n, left);
        std::string s(reinterpret_cast<const char *>(p), n);
        p += n;
        left -= n;
        return s;
    }
    uint64_t u64()
    {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | byte();
        return v;
    }
};

const QList<OptionSpec> &specs()
{
    static const QList<OptionSpec> s = {{"bwlimit", 'u'}, {"leader", 's', 253}, {"force", 'b'},
                                        {"size", 't'},    {"delta", 'i'},       {"offset", 'x'},
                                        {"ratio", 'd'},   {"password", 's', 16}};
    return s;
}

// A bus object that can make messages: connected to nothing that answers.
sd_bus *bus()
{
    static sd_bus *b = [] {
        int fds[2];
        sd_bus *out = nullptr;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 || sd_bus_new(&out) < 0
            || sd_bus_set_fd(out, fds[0], fds[0]) < 0 || sd_bus_start(out) < 0)
            __builtin_trap();
        return out;
    }();
    return b;
}

// One variant of TYPE with its value from IN.
int appendVariant(sd_bus_message *m, char type, Input &in)
{
    switch (type) {
    case 's': {
        const std::string s = in.bytes(in.byte() % 48);
        return sd_bus_message_append(m, "v", "s", s.c_str());
    }
    case 'b': return sd_bus_message_append(m, "v", "b", int(in.byte() & 1));
    case 'u': return sd_bus_message_append(m, "v", "u", uint32_t(in.u64()));
    case 't': return sd_bus_message_append(m, "v", "t", in.u64());
    case 'i': return sd_bus_message_append(m, "v", "i", int32_t(in.u64()));
    case 'x': return sd_bus_message_append(m, "v", "x", int64_t(in.u64()));
    case 'd': {
        const uint64_t bits = in.u64();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return sd_bus_message_append(m, "v", "d", d);
    }
    case 'o': return sd_bus_message_append(m, "v", "o", "/org/nethserver/Ns8Migration1");
    case 'y': return sd_bus_message_append(m, "v", "y", in.byte());
    case 'a': return sd_bus_message_append(m, "v", "as", 2, "a", "b");
    default: return sd_bus_message_append(m, "v", "(su)", "x", uint32_t(in.byte()));
    }
}

int appendDictionary(sd_bus_message *m, Input &in)
{
    static const char types[] = "sbutixdoya(";
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (int n = 0; r >= 0 && in.left > 0 && n < 64; ++n) {
        const uint8_t k = in.byte();
        std::string key = k < 0x80 ? std::string(specs().at(k % specs().size()).name) : in.bytes(k % 80);
        r = sd_bus_message_open_container(m, 'e', "sv");
        if (r >= 0)
            r = sd_bus_message_append(m, "s", key.c_str());
        if (r >= 0)
            r = appendVariant(m, types[in.byte() % (sizeof types - 1)], in);
        if (r >= 0)
            r = sd_bus_message_close_container(m);
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Input in{data, size};
    sd_bus_message *m = nullptr;
    if (sd_bus_message_new_method_call(bus(), &m, "org.nethserver.Ns8Migration1", "/org/nethserver/Ns8Migration1",
                                       "org.nethserver.Ns8Migration1.Manager", "Connect") < 0)
        __builtin_trap();
    int r = 0;
    switch (in.byte() % 8) {
    case 0: r = sd_bus_message_append(m, "s", "not a dictionary"); break;
    case 1: r = sd_bus_message_append(m, "a{ss}", 1, "leader", "x"); break;
    case 2: break; // no argument at all
    default: r = appendDictionary(m, in); break;
    }
    // Invalid UTF-8 or object paths are refused by sd-bus while building:
    // such a message never reaches the helper.
    if (r >= 0 && sd_bus_message_seal(m, 1, 0) >= 0 && sd_bus_message_rewind(m, 1) >= 0) {
        QVariantMap options;
        BusError error;
        const bool ok = readOptions(m, specs(), &options, &error);
        if (ok == error.isError())
            __builtin_trap(); // either options or an error
        if (!ok && error.name != QLatin1String(Error::InvalidArgument))
            __builtin_trap();
    }
    sd_bus_message_unref(m);
    return 0;
}
