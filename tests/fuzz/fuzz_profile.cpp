// libFuzzer target: the YAML app profile loader (profile/appprofile), as it
// reads /usr/share/ns8-migration/apps/*.yaml; with yaml-cpp under it.
#include "profile/appprofile.h"

#include <cstddef>
#include <cstdint>

using namespace ns8m;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    QString error;
    const auto profile = AppProfile::parse(QByteArray(reinterpret_cast<const char *>(data), int(size)),
                                           QStringLiteral("fuzz.yaml"), &error);
    // Either a profile or a reason, never both nor neither.
    if (profile.has_value() == !error.isEmpty())
        __builtin_trap();
    return 0;
}
