#include "core/process.h"

#include "core/qtcompat.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QTimer>

#include <memory>

namespace ns8m {

Text ProcessResult::failure() const
{
    // Some programs (wireguard-go) log their errors on stdout: keep both.
    QString e = QString::fromUtf8(err).trimmed();
    const QString o = QString::fromUtf8(out).trimmed();
    if (!o.isEmpty())
        e = e.isEmpty() ? o : e + u'\n' + o;
    // The last lines say what went wrong; banners and warnings come first.
    if (e.size() > 400)
        e = QStringLiteral("…") + e.right(400);
    if (exitCode == -1)
        return e.isEmpty() ? Text("process.not-run", "%1 could not run.").arg(what)
                           : Text("process.not-run-said", "%1 could not run: %2").arg(what, e);
    return e.isEmpty() ? Text("process.failed", "%1 failed (exit code %2).").arg(what).arg(exitCode)
                       : Text("process.failed-said", "%1 failed (exit code %2): %3").arg(what).arg(exitCode).arg(e);
}

QString ProcessResult::errorText() const
{
    return failure().english();
}

namespace {

void start(QObject *context, const QStringList &argv, const QString &outPath,
           std::function<void(const ProcessResult &)> done, const QStringList &env, int timeoutMs)
{
    auto *p = new QProcess(context);
    auto fired = std::make_shared<bool>(false);
    auto result = std::make_shared<ProcessResult>();
    result->what = argv.join(u' ');
    if (!env.isEmpty()) {
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        for (const QString &kv : env)
            e.insert(kv.section(u'=', 0, 0), kv.section(u'=', 1));
        p->setProcessEnvironment(e);
    }
    // The context going away (the helper stopping) kills the process:
    // whoever waited for it may be gone already, so nothing is called back.
    if (context)
        QObject::connect(context, &QObject::destroyed, p, [fired] { *fired = true; });
    auto *timer = new QTimer(p);
    timer->setSingleShot(true);
    QObject::connect(timer, &QTimer::timeout, p, [p] { p->kill(); });
    QObject::connect(p, processFinished, p, [p, done, fired, result](int code, QProcess::ExitStatus st) {
        if (*fired)
            return;
        *fired = true;
        result->exitCode = st == QProcess::NormalExit ? code : -1;
        result->out = p->readAllStandardOutput();
        result->err = p->readAllStandardError();
        p->deleteLater();
        done(*result);
    });
    QObject::connect(p, &QProcess::errorOccurred, p, [p, done, fired, result](QProcess::ProcessError e) {
        if (e != QProcess::FailedToStart || *fired)
            return;
        *fired = true;
        result->exitCode = -1;
        result->err = p->errorString().toUtf8();
        p->deleteLater();
        done(*result);
    });
    p->setProgram(argv.first());
    p->setArguments(argv.mid(1));
    p->setStandardInputFile(QProcess::nullDevice());
    if (!outPath.isEmpty())
        p->setStandardOutputFile(outPath, QIODevice::Append);
    timer->start(timeoutMs);
    p->start();
}

} // namespace

void runProcess(QObject *context, const QStringList &argv, std::function<void(const ProcessResult &)> done,
                const QStringList &env, int timeoutMs)
{
    start(context, argv, QString(), std::move(done), env, timeoutMs);
}

void runProcessToFile(QObject *context, const QStringList &argv, const QString &outPath,
                      std::function<void(const ProcessResult &)> done, int timeoutMs)
{
    start(context, argv, outPath, std::move(done), {}, timeoutMs);
}

void runSequence(QObject *context, QList<QStringList> argvs, std::function<void(const ProcessResult &)> done)
{
    if (argvs.isEmpty()) {
        ProcessResult ok;
        ok.exitCode = 0;
        return done(ok);
    }
    const QStringList first = argvs.takeFirst();
    runProcess(context, first, [context, argvs, done](const ProcessResult &r) {
        if (!r.ok())
            return done(r);
        runSequence(context, argvs, done);
    });
}

} // namespace ns8m
