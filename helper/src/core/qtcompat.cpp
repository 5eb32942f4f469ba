#include "core/qtcompat.h"

#include <QNetworkReply>
#include <QTimer>

namespace ns8m {

void abortWhenStalled(QNetworkReply *reply, int ms)
{
    if (ms <= 0 || reply->isFinished())
        return;
    auto *timer = new QTimer(reply);
    timer->setSingleShot(true);
    timer->setInterval(ms);
    const auto restart = [timer] { timer->start(); };
    QObject::connect(timer, &QTimer::timeout, reply, [reply] {
        if (reply->isRunning())
            reply->abort();
    });
    QObject::connect(reply, &QNetworkReply::downloadProgress, timer, restart);
    QObject::connect(reply, &QNetworkReply::uploadProgress, timer, restart);
    QObject::connect(reply, &QNetworkReply::finished, timer, &QTimer::stop);
    timer->start();
}

} // namespace ns8m
