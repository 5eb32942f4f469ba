"""Login, tokens and the API envelopes over HTTPS."""

import json
import subprocess
import unittest

from ns8sim import testing


class LoginTest(testing.ClusterTestCase):
    cluster_kwargs = {"token_lifetime": 4, "login_rate_limit": (20, 30.0), "modules": []}

    def setUp(self):
        self.cluster.control.reset_faults()  # also resets the login rate limiter

    def test_good_login_returns_token_and_expiry(self):
        c = self.cluster
        code, out = c.curl("POST", "/login", {"username": c.admin.user,
                                              "password": c.admin.password})
        self.assertEqual(code, 200)
        self.assertEqual(out["code"], 200)
        self.assertEqual(set(out), {"code", "expire", "token"})
        self.assertRegex(out["expire"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertEqual(out["token"].count("."), 2)  # a JWT
        # and it authorizes a task
        res = c.run_task("cluster", "get-cluster-status", token=out["token"])
        self.assertEqual(res["exit_code"], 0)

    def test_bad_password_and_unknown_user(self):
        c = self.cluster
        for body in ({"username": c.admin.user, "password": "wrong"},
                     {"username": "nobody", "password": c.admin.password}):
            code, out = c.curl("POST", "/login", body)
            self.assertEqual((code, out), (401, {"code": 401,
                                                 "message": "incorrect Username or Password"}))

    def test_two_factor(self):
        c = self.cluster
        a = c.otp_account
        code, out = c.curl("POST", "/login", {"username": a.user, "password": a.password})
        self.assertEqual((code, out["message"]), (401, "missing OTP value"))
        wrong = "%06d" % ((int(c.otp()) + 500000) % 1000000)
        code, out = c.curl("POST", "/login", {"username": a.user, "password": a.password,
                                              "otp": wrong})
        self.assertEqual((code, out["message"]), (401, "OTP check failed"))
        code, out = c.curl("POST", "/login", {"username": a.user, "password": a.password,
                                              "otp": c.otp()})
        self.assertEqual(code, 200, out)
        self.assertIn("token", out)
        # a wrong password is reported before the OTP
        code, out = c.curl("POST", "/login", {"username": a.user, "password": "x",
                                              "otp": c.otp()})
        self.assertEqual((code, out["message"]), (401, "incorrect Username or Password"))

    def test_token_expiry_gives_401(self):
        c = self.cluster
        token = c.login()
        code, _ = c.submit("cluster", "get-cluster-status", token=token)
        self.assertEqual(code, 201)
        # lifetime is 4 s in this class: wait until the server says expired
        def expired():
            code, out = c.submit("cluster", "get-cluster-status", token=token)
            return (code, out) if code == 401 else None
        code, out = self.wait_for(expired, 20, "the 4 s token to expire")
        self.assertEqual(out["code"], 401)
        self.assertIn("expired", out["message"])
        # a fresh login works again
        self.assertEqual(c.submit("cluster", "get-cluster-status", token=c.login())[0], 201)

    def test_missing_and_forged_token(self):
        c = self.cluster
        code, out = c.submit("cluster", "get-cluster-status")
        self.assertEqual((code, out["message"]), (401, "auth header is empty"))
        token = c.login()
        head, payload, sig = token.split(".")
        forged = head + "." + payload + "." + ("A" if sig[0] != "A" else "B") + sig[1:]
        code, out = c.submit("cluster", "get-cluster-status", token=forged)
        self.assertEqual(code, 401)

    def test_burst_of_logins_gets_429(self):
        c = self.cluster
        body = json.dumps({"username": c.admin.user, "password": "wrong"})
        n = 40  # limit in this class: 20 logins / 30 s per client address
        argv = ["curl", "-sS", "--parallel", "--parallel-max", "20", "--cacert", c.ca_file,
                "-H", "Content-Type: application/json", "-X", "POST", "--data-binary", body,
                "-w", "%{http_code}\n"]
        for _ in range(n):
            argv += ["-o", "/dev/null", c.https_api + "/login"]
        p = c.topology.run("ns7", argv, timeout=120)
        codes = [int(x) for x in p.stdout.split()]
        self.assertEqual(len(codes), n)
        self.assertEqual(set(codes), {401, 429}, codes)
        self.assertGreaterEqual(codes.count(429), n - 20)
        code, out = c.curl("POST", "/login", {"username": c.admin.user,
                                              "password": c.admin.password})
        self.assertEqual((code, out), (429, {"code": 429, "message": "too many requests"}))

    def test_https_needs_the_generated_ca(self):
        c = self.cluster
        p = c.topology.run("ns7", ["curl", "-sS", "-o", "/dev/null", "-X", "POST",
                                   c.https_api + "/login"], check=False)
        self.assertEqual(p.returncode, 60, p.stderr)  # certificate problem
        # the certificate is for leader.ns8.test and chains to ca_file
        p = c.topology.run("ns7", ["openssl", "s_client", "-connect", "leader.ns8.test:443",
                                   "-servername", "leader.ns8.test", "-CAfile", c.ca_file,
                                   "-verify_hostname", "leader.ns8.test", "-verify_return_error"],
                           input="", check=False)
        self.assertIn("Verify return code: 0 (ok)", p.stdout)
        fp = subprocess.run(["openssl", "x509", "-in", c.run_dir + "/tls/server.pem",
                             "-noout", "-fingerprint", "-sha256"], capture_output=True,
                            text=True, check=True).stdout
        self.assertEqual(fp.split("=", 1)[1].strip().replace(":", "").lower(),
                         c.tls_fingerprint)

    def test_unknown_path_and_wrong_prefix(self):
        c = self.cluster
        code, out = c.curl("GET", "/nothing/here", token=c.login())
        self.assertEqual((code, out["message"]), (404, "API not found"))
        # /api without /cluster-admin is not served on 443
        p = c.topology.run("ns7", ["curl", "-sS", "--cacert", c.ca_file, "-o", "/dev/null",
                                   "-w", "%{http_code}", "-X", "POST",
                                   "https://leader.ns8.test/api/login"])
        self.assertEqual(p.stdout, "404")

    def test_request_log_masks_secrets(self):
        c = self.cluster
        since = len(c.control.requests())
        c.curl("POST", "/login", {"username": c.otp_account.user,
                                  "password": c.otp_account.password, "otp": c.otp()})
        log = c.control.requests(since)
        self.assertEqual(len(log), 1)
        e = log[0]
        self.assertEqual((e["method"], e["transport"], e["user"], e["http_status"]),
                         ("POST", "https", c.otp_account.user, 200))
        self.assertEqual(e["input"], {"username": c.otp_account.user, "password": "XXX",
                                      "otp": "XXX"})
        self.assertEqual(e["client"], c.topology.ns7_ip)
        self.assertNotIn(c.otp_account.password, json.dumps(log))

    def test_envelope_of_queued_task(self):
        c = self.cluster
        code, out = c.submit("cluster", "list-user-domains", token=c.login())
        self.assertEqual(code, 201)
        self.assertEqual((out["code"], out["message"]), (201, "task queued successfully"))
        d = out["data"]
        self.assertEqual(set(d), {"id", "action", "data", "extra", "queue", "user",
                                  "timestamp", "parent"})
        self.assertEqual((d["action"], d["queue"], d["user"], d["parent"]),
                         ("list-user-domains", "cluster/tasks", c.admin.user, ""))
        self.assertRegex(d["id"], r"^[0-9a-f-]{36}$")


if __name__ == "__main__":
    unittest.main()
