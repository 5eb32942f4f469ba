"""A profile source replaced by a symbolic link: NethVoice's agi-bin made a
link to /root.  The helper runs as root; Scan must refuse, naming the path,
instead of walking /root (and Sync, which shares the check, is covered by
the unit test test_rsync's refusesASymlinkedSource).  No cluster."""

import os
import shutil
import unittest

from harness import app_path
from harness.testing import SandboxTestCase

APP = app_path("nethvoice")
AGI_BIN = "var/lib/asterisk/agi-bin"


class SourceLinksTest(SandboxTestCase):
    sandbox_options = dict(files=200, cdr_rows=20)

    def scan(self):
        job, rec = self.sb.bus.scan("nethvoice")
        return self.sb.bus.wait_job(job, rec, 60, "the scan")

    def test_symlinked_agi_bin_is_refused(self):
        agi = os.path.join(self.sb.root, AGI_BIN)
        self.assertTrue(os.path.isdir(agi))
        shutil.rmtree(agi)
        os.symlink("/root", agi)
        outcome = self.scan()
        props = outcome.props
        self.assertFalse(props["Success"], props["Message"])
        self.assertEqual(props["ErrorName"], "org.nethserver.Ns8Migration1.Error.Failed")
        self.assertIn("/" + AGI_BIN + " is a symbolic link (to /root)", props["Message"])
        # Nothing of /root was counted: the scan kept no result.
        self.assertEqual(self.sb.bus.get(APP, "org.nethserver.Ns8Migration1.App", "ScanTime"), 0)
        # Put back as a directory, the scan goes through.
        os.unlink(agi)
        os.makedirs(agi)
        outcome = self.scan()
        self.assertTrue(outcome.props["Success"], outcome.props["Message"])


if __name__ == "__main__":
    unittest.main()
