// libFuzzer target: the e-smith database reader (ns7/esmithdb), as it reads
// /var/lib/nethserver/db/<name> files of NS7.
#include "ns7/esmithdb.h"

#include <QByteArray>

#include <cstddef>
#include <cstdint>

using namespace ns8m;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray text(reinterpret_cast<const char *>(data), int(size));
    const EsmithDb db = EsmithDb::parse(text);
    // Every record as the helper reads them: by key, type and property.
    for (const QString &key : db.keys()) {
        const auto rec = db.record(key);
        // A listed key is found again (lookups trim the key they are given).
        if (key == key.trimmed() && (!rec || !db.contains(key)))
            __builtin_trap();
        if (!rec)
            continue;
        for (auto it = rec->props.constBegin(); it != rec->props.constEnd(); ++it)
            (void)db.prop(key, it.key());
        (void)db.type(key);
    }
    return 0;
}
