// libFuzzer target: what the helper makes of an NS8 task's result
// (ns8/ns8client): the status document's data (exit_code, output, error),
// the output read as JSON when it is a string, the validation errors of an
// exit code 10 and the failure sentence; list-modules' output read by
// modulePlacement().
//
// The input is the status answer's body, read by taskResultFromStatus() as
// Ns8Client::pollStatus does, followed by the public functions that read a
// TaskResult.
#include "ns8/ns8client.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstddef>
#include <cstdint>

using namespace ns8m;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QJsonDocument answer = QJsonDocument::fromJson(QByteArray(reinterpret_cast<const char *>(data), int(size)));
    if (answer.isArray()) {
        // list-modules' output
        const ModulePlacement p = modulePlacement(answer.array(), QStringLiteral("ghcr.io/nethserver/nethvoice"), 1);
        (void)p.installedAs.size();
        return 0;
    }
    const TaskResult r = taskResultFromStatus(answer.object());
    (void)r.ok();
    (void)r.validationSummary();
    (void)r.failureText(QStringLiteral("configure-module"));
    const ApiError e = r.failure(QStringLiteral("import-module"), QString::fromLatin1(Error::Failed));
    (void)e.message.size();
    if (r.output.isArray())
        (void)modulePlacement(r.output.toArray(), QStringLiteral("nethvoice"), quint32(r.exitCode));
    return 0;
}
