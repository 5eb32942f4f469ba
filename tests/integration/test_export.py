"""App.Export: the administrator's documentation of the PBX (extensions,
trunks, inbound and outbound routes) read from NS7's `asterisk` database,
as JSON and as CSV, credentials masked unless an administrator asks.  The
figures are compared with the sample NS7's tables, read here with plain SQL."""

import csv
import io
import json
import unittest

from harness import APP_IFACE, SYNC_GROUP_MEMBER, UNPRIVILEGED_USER, app_path
from harness.testing import SandboxTestCase

APP = app_path("nethvoice")
ERROR = "org.nethserver.Ns8Migration1.Error."
MASK = "********"

# The sync-group member may also read (Scan, Export without credentials),
# not migrate: the case of an operator who documents but does not administer.
READ_RULE = """
polkit.addRule(function(action, subject) {
    if (action.id == "org.nethserver.ns8migration.read" && subject.isInGroup("ns8migration-sync"))
        return polkit.Result.YES;
    return polkit.Result.NOT_HANDLED;
});
"""


class ExportTest(SandboxTestCase):
    sandbox_options = dict(files=300, cdr_rows=50, example_rules=True,
                           polkit_rules={"60-ns8migration-read.rules": READ_RULE})

    def export(self, **options):
        return self.sb.bus.call(APP, APP_IFACE, "Export", "a{sv}", [options])

    def json_tables(self, **options):
        files = self.export(format="json", **options)
        self.assertEqual(list(files), ["nethvoice-configuration.json"])
        doc = json.loads(files["nethvoice-configuration.json"])
        self.assertEqual(doc["app"], "nethvoice")
        return doc, {t["id"]: t for t in doc["tables"]}

    def db(self, sql):
        return self.sb.mysql.sql(sql, database="asterisk")

    def test_extensions_match_the_database(self):
        _, tables = self.json_tables()
        rows = tables["extensions"]["rows"]
        expected = self.db("SELECT u.extension, u.name, d.id, d.tech FROM users u "
                           "LEFT JOIN devices d ON d.user = u.extension")
        self.assertEqual(sorted((r["extension"], r["name"], r["device"], r["tech"]) for r in rows),
                         sorted(tuple(e) for e in expected))
        self.assertEqual([r["extension"] for r in rows], sorted((r["extension"] for r in rows), key=int),
                         "extensions are not in numeric order")
        self.assertTrue(rows and all(r["secret"] == MASK for r in rows), rows[:3])

    def test_trunks_masked_then_in_clear_for_an_administrator(self):
        doc, tables = self.json_tables()
        self.assertEqual(doc["credentials"], "masked")
        trunks = {r["name"]: r for r in tables["trunks"]["rows"]}
        self.assertEqual(sorted(trunks), sorted(r[0] for r in self.db("SELECT name FROM trunks")))
        self.assertEqual(trunks["Provider_A"]["server"], "sip.provider-a.example.net")
        self.assertEqual(trunks["legacy-gw"]["server"], "198.51.100.7")
        self.assertEqual(trunks["legacy-gw"]["username"], "gw")
        self.assertTrue(all(r["secret"] == MASK for r in trunks.values()), trunks)
        full = json.dumps(doc)
        for (secret,) in self.db("SELECT data FROM pjsip WHERE keyword = 'secret' UNION "
                                 "SELECT data FROM sip WHERE keyword = 'secret'"):
            self.assertNotIn(secret, full, "a credential is in the masked export")

        doc, tables = self.json_tables(secrets=True)
        self.assertEqual(doc["credentials"], "included")
        clear = {r["name"]: r["secret"] for r in tables["trunks"]["rows"]}
        self.assertEqual(clear["Provider_A"], self.db(
            "SELECT data FROM pjsip WHERE id = '1' AND keyword = 'secret'")[0][0])
        self.assertEqual(clear["legacy-gw"], self.db(
            "SELECT data FROM sip WHERE id = 'tr-peer-3' AND keyword = 'secret'")[0][0])

    def test_routes(self):
        _, tables = self.json_tables()
        inbound = tables["inbound_routes"]["rows"]
        self.assertEqual(sorted(r["did"] for r in inbound), sorted(r[0] for r in self.db("SELECT extension FROM incoming")))
        outbound = tables["outbound_routes"]["rows"]
        self.assertEqual([r["name"] for r in outbound], ["emergency", "national", "mobile", "international"],
                         "outbound routes not in the order FreePBX tries them")
        by_name = {r["name"]: r for r in outbound}
        self.assertEqual(by_name["emergency"]["trunks"], "Provider_A, legacy-gw")
        self.assertEqual(by_name["emergency"]["patterns"], "112 113")
        self.assertEqual(by_name["international"]["patterns"], "+X./2XX (00)00|X.")
        self.assertEqual(by_name["international"]["pin"], MASK)
        self.assertEqual(by_name["national"]["pin"], "", "an empty PIN is not a credential to mask")

    def test_csv_files_hold_the_same_rows(self):
        _, tables = self.json_tables()
        files = self.export(format="csv")
        self.assertEqual(sorted(files), sorted(f"nethvoice-{t}.csv" for t in tables))
        for tid, table in tables.items():
            with self.subTest(table=tid):
                text = files[f"nethvoice-{tid}.csv"]
                self.assertTrue(text.endswith("\r\n"))
                rows = list(csv.reader(io.StringIO(text, newline="")))
                self.assertEqual(rows[0], table["columns"])
                self.assertEqual(rows[1:], [["" if r[c] is None else r[c] for c in table["columns"]]
                                            for r in table["rows"]])
        # A trunk name with a comma and quotes survives the quoting.
        trunks = list(csv.DictReader(io.StringIO(files["nethvoice-trunks.csv"], newline="")))
        self.assertIn('Backup, line "B"', [t["name"] for t in trunks])

    def test_who_may_export(self):
        r = self.sb.bus.call_as(SYNC_GROUP_MEMBER, APP, APP_IFACE, "Export", "a{sv}", [{"format": "csv"}])
        self.assertTrue(r.ok, r)
        self.assertIn(MASK, r.value["nethvoice-trunks.csv"])
        r = self.sb.bus.call_as(SYNC_GROUP_MEMBER, APP, APP_IFACE, "Export", "a{sv}", [{"secrets": True}])
        self.assertEqual(r.error_name, ERROR + "NotAuthorized", "credentials in clear for who may not migrate")
        r = self.sb.bus.call_as(UNPRIVILEGED_USER, APP, APP_IFACE, "Export", "a{sv}", [{}])
        self.assertEqual(r.error_name, ERROR + "NotAuthorized")

    def test_bad_format_is_refused_with_a_sentence(self):
        name, message = self.sb.bus.call_error(APP, APP_IFACE, "Export", "a{sv}", [{"format": "xml"}])
        self.assertEqual(name, ERROR + "InvalidArgument")
        self.assertIn('"xml"', message)
        self.assertIn("csv", message)

    def test_a_table_that_cannot_be_read_is_named(self):
        self.sb.mysql.sql("RENAME TABLE outbound_route_sequence TO ors_away", database="asterisk")
        try:
            doc, tables = self.json_tables()
            files = self.export(format="csv")
        finally:
            self.sb.mysql.sql("RENAME TABLE ors_away TO outbound_route_sequence", database="asterisk")
        self.assertIn("outbound_route_sequence", tables["outbound_routes"]["error"])
        self.assertNotIn("rows", tables["outbound_routes"])
        self.assertTrue(tables["extensions"]["rows"], "one missing table hid the others")
        self.assertNotIn("nethvoice-outbound_routes.csv", files)
        self.assertIn("nethvoice-extensions.csv", files)


if __name__ == "__main__":
    unittest.main()
