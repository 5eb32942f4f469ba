// libFuzzer target: the parser of what rsync prints (transfer/rsync): its
// progress2 lines, --stats, --itemize-changes on stdout, its complaints on
// stderr, and the result's sentences built from them.
//
// The input is stdout, a NUL byte, then stderr; the byte after a second NUL
// (if any) is rsync's exit code.  The lines go to RsyncRun's parser as a
// running rsync's would (parseOutLine, parseErrLine).
#include "transfer/rsync.h"

#include <QByteArray>
#include <QList>

#include <cstddef>
#include <cstdint>

using namespace ns8m;

namespace {

RsyncTransfer transfer()
{
    RsyncTransfer t;
    t.id = QStringLiteral("fuzz");
    t.destination = QStringLiteral("rsync://user@192.0.2.1:20001/data/volumes/x/");
    t.password = QStringLiteral("s3cret-pw");
    return t;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray in(reinterpret_cast<const char *>(data), int(size));
    const QList<QByteArray> parts = in.split('\0');
    RsyncRun run(transfer());
    // stdout: lines end in '\r' (progress) or '\n', as readOut() splits them.
    const QByteArray out = parts.value(0);
    int from = 0;
    for (int i = 0; i < out.size(); ++i) {
        if (out.at(i) == '\r' || out.at(i) == '\n') {
            run.parseOutLine(out.mid(from, i - from));
            from = i + 1;
        }
    }
    run.parseOutLine(out.mid(from));
    for (const QByteArray &line : parts.value(1).split('\n'))
        run.parseErrLine(line);
    RsyncResult r = run.parsed();
    r.exitCode = parts.size() > 2 && !parts.at(2).isEmpty() ? int(quint8(parts.at(2).at(0))) : 23;
    r.vanished = r.exitCode == 24;
    (void)r.ok();
    (void)r.retryable();
    const QString text = r.errorText() + r.warningText();
    // rsync never prints the password; if it did on stderr, it stops at the
    // parser.
    if (!out.contains("s3cret-pw") && text.contains(QStringLiteral("s3cret-pw")))
        __builtin_trap();
    return 0;
}
