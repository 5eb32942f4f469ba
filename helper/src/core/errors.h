// Every D-Bus error name the helper sends, in one table, and the one shape a
// failure takes in every layer.  The names are part of the API: the
// introspection XML (dbus/) lists the same ones, and a unit test holds the
// two together.
#pragma once

#include "core/text.h"

#include <QString>

namespace ns8m {

namespace Error {
#define NS8M_ERROR_NAME(n) "org.nethserver.Ns8Migration1.Error." n
// polkit said no for the action the method needs
inline constexpr const char *NotAuthorized = NS8M_ERROR_NAME("NotAuthorized");
// an option is unknown, of the wrong type, or its value is not acceptable
inline constexpr const char *InvalidArgument = NS8M_ERROR_NAME("InvalidArgument");
// the object is not in a state where the method makes sense
inline constexpr const char *WrongState = NS8M_ERROR_NAME("WrongState");
// another job already runs on this object
inline constexpr const char *Busy = NS8M_ERROR_NAME("Busy");
// the operation could not be done; the message says why
inline constexpr const char *Failed = NS8M_ERROR_NAME("Failed");
// the NS8 leader, its VPN endpoint or its API cannot be reached
inline constexpr const char *ClusterUnreachable = NS8M_ERROR_NAME("ClusterUnreachable");
// the leader's certificate is not trusted or not the pinned one
inline constexpr const char *TlsNotTrusted = NS8M_ERROR_NAME("TlsNotTrusted");
// NS8 refused the user name, the password or the OTP code
inline constexpr const char *AuthenticationFailed = NS8M_ERROR_NAME("AuthenticationFailed");
// the NS8 account has two-factor authentication: give "otp"
inline constexpr const char *OtpRequired = NS8M_ERROR_NAME("OtpRequired");
// NS7's account provider does not fit the NS8 user domains
inline constexpr const char *DomainConflict = NS8M_ERROR_NAME("DomainConflict");
// a blocking prerequisite, or warnings without accept_warnings
inline constexpr const char *PreflightFailed = NS8M_ERROR_NAME("PreflightFailed");
// the VPN tunnel to the cluster is missing or down, or the route to the
// address goes elsewhere: nothing was sent (it would have left outside it)
inline constexpr const char *TunnelDown = NS8M_ERROR_NAME("TunnelDown");
// an app's migration is under way (a job runs, or it started and did not
// finish): leaving the cluster now would strand it on NS8
inline constexpr const char *MigrationInProgress = NS8M_ERROR_NAME("MigrationInProgress");
// a migrated app on NS8 signs its users in through the temporary user
// domain that reads NS7's accounts: removing it takes their users away
inline constexpr const char *DomainInUse = NS8M_ERROR_NAME("DomainInUse");
// an app that goes last (the account provider) was started while other
// apps are still to be migrated or skipped
inline constexpr const char *ProviderNotLast = NS8M_ERROR_NAME("ProviderNotLast");
// (Job.ErrorName only) the job was canceled
inline constexpr const char *Canceled = NS8M_ERROR_NAME("Canceled");
#undef NS8M_ERROR_NAME

inline constexpr const char *const All[] = {NotAuthorized,        InvalidArgument, WrongState,   Busy,
                                            Failed,               ClusterUnreachable, TlsNotTrusted,
                                            AuthenticationFailed, OtpRequired,     DomainConflict,
                                            PreflightFailed,      TunnelDown,      MigrationInProgress,
                                            DomainInUse,          ProviderNotLast, Canceled};
} // namespace Error

// A failure, in whatever layer it happens: the D-Bus error name that says
// what kind it is (Error::*) and a sentence a person can act on.  Empty name:
// no failure.  The bus edge sends it as it is.
struct Failure {
    QString name;
    QString message; // the English of TEXTS, for busctl and the log
    Texts texts;     // the message by id (core/text.h): what failed, then why

    Failure() = default;
    Failure(const QString &name_, const Texts &texts_) : name(name_), message(english(texts_)), texts(texts_) {}
    Failure(const QString &name_, const Text &text_) : Failure(name_, Texts{text_}) {}
    Failure(const char *name_, const Texts &texts_) : Failure(QString::fromLatin1(name_), texts_) {}
    Failure(const char *name_, const Text &text_) : Failure(QString::fromLatin1(name_), Texts{text_}) {}
    bool isError() const { return !name.isEmpty(); }
    // The common kind: Error::Failed, with what went wrong.
    static Failure failed(const Text &text_) { return {Error::Failed, text_}; }
    // This failure told after WHAT (e.g. "Creating X on NS8 failed."): the
    // same kind, WHAT, then its own sentences.
    Failure after(const Text &what) const
    {
        Texts t{what};
        t += texts;
        return {name, t};
    }
    // The same sentences, said as the common kind.
    Failure asFailed() const { return {QString::fromLatin1(Error::Failed), texts}; }
};

} // namespace ns8m
