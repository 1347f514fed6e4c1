"""End-to-end, through the Python client against a real ledgerd (issue #4):
import the reference report (Klakah, Triwulan II 2024) with ledgerctl,
record a correction of indicator 1's Triwulan I realization and a
disposition "Target dan realisasi diteliti ulang" of the TW II report, then
show that history lists both with actor, times and reason; that explain of
the corrected figure names the original and the correcting event; that the
diff between the submission and now holds exactly the figures that changed;
and that late entries names the TW II report.

The AuditService tests skip (exit 77 under ctest) while the server answers
UNIMPLEMENTED; the ReportService tests run regardless.
"""

import os
import subprocess
import sys
import types
import unittest

import grpc

import sakip_ledger
from sakip_ledger import (LedgerError, SubmissionOf, changed_figure_keys, events_pb2, index_figures,
                          proposed, sakip_event, to_micros)

from support import EXAMPLES_DIR, REFERENCE_REPORT, LedgerdTestCase, ledgerctl, \
    skip_if_unimplemented

UNIT, YEAR = "35.08.19", 2024
REPORT_ID = "LKI-CAMAT-KLAKAH-TW2-2024"
ORIGINAL_ID = "klakah-2024-0042"       # RealizationRecorded IKU-1 TW I 37.84
SUBMISSION_ID = "klakah-2024-0235"     # ReportSubmitted LKI-CAMAT-KLAKAH-TW2-2024
CORRECTION_ID = "klakah-2024-koreksi-0001"
DISPOSITION_ID = "klakah-2024-disposisi-0001"
ACTOR = "operator:kecamatan-klakah"
CORRECTION_REASON = "Salah ketik realisasi TW I: berita acara verifikasi menyebut 40,12"
DISPOSITION_REASON = "Atasan langsung meminta target dan realisasi diteliti ulang"
KEY = "indicator/IKU-1/q1/realization"

# Indicator 1's TW I realization 37.84 -> 40.12 moves exactly these figures of
# the TW II report (hand-derived: TW I capaian against the annual target, the
# cumulative year end, and the average row over both indicators). Nothing of
# IKU-2, the budget, cost per outcome or the checklist moves.
EXPECTED_CHANGED = {
    "indicator/IKU-1/q1/realization",      # 37.84 -> 40.12
    "indicator/IKU-1/q1/capaian",          # 39.64 -> 42.03
    "indicator/IKU-1/year_end/realization",  # 54.84 -> 57.12
    "indicator/IKU-1/year_end/capaian",    # 57.45 -> 59.84
    "average/q1/realization",
    "average/q1/capaian",
    "average/year_end/realization",
    "average/year_end/capaian",
}


class CorrectedReferenceLedger(LedgerdTestCase):
    """A ledgerd holding the reference report, then the correction and the
    disposition (each test class gets its own)."""

    # Positions below are exact: no signed heads or report seals interleave.
    ledgerd_flags = (f"--actor={ACTOR}", "--sign_heads=false")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ledgerctl(cls.ledgerd.address, "import", REFERENCE_REPORT)
        cls.submission_position = cls.client.head().position
        assert cls.submission_position == 235, cls.submission_position
        cls.before_micros = to_micros(sakip_ledger.from_micros(
            cls.client.head().recorded_at_micros)) + 1
        correction = proposed(CORRECTION_ID, sakip_event(UNIT, YEAR, realization_corrected={
            "corrects_event_id": ORIGINAL_ID, "value": "40.12",
            "note": "berita acara verifikasi 2024-08-05"}), reason=CORRECTION_REASON)
        disposition = proposed(DISPOSITION_ID, sakip_event(UNIT, YEAR, report_disposed={
            "report_id": REPORT_ID, "options": ["TARGET_DAN_REALISASI_DITELITI_ULANG"],
            "supervisor_name": "Drs. H. CONTOH ATASAN, M.Si",
            "supervisor_nip": "19700101 199503 1 002"}), reason=DISPOSITION_REASON)
        cls.correction = cls.client.record_events([correction])
        cls.disposition = cls.client.record_events([disposition])
        cls.after_micros = cls.client.head().recorded_at_micros



class ReportEndToEndTest(CorrectedReferenceLedger):
    """Through ReportService and LedgerService (and the report_as_of example)."""

    def test_report_as_published_and_as_corrected(self):
        published = self.client.get_report(UNIT, YEAR, 2, as_of=SubmissionOf(REPORT_ID))
        now = self.client.get_report(UNIT, YEAR, 2)
        self.assertEqual(published.as_of_position, self.submission_position)
        self.assertEqual(now.as_of_position, self.disposition.last_position)
        before, after = index_figures(published.report), index_figures(now.report)
        self.assertEqual(before[KEY].indonesian, "37,84")
        self.assertEqual(after[KEY].indonesian, "40,12")
        self.assertEqual(before["indicator/IKU-1/year_end/capaian"].indonesian, "57,45")
        self.assertEqual(after["indicator/IKU-1/year_end/capaian"].indonesian, "59,84")
        self.assertEqual(changed_figure_keys(published.report, now.report), EXPECTED_CHANGED)
        status = {s.report_id: s for s in now.report.reports}[REPORT_ID]
        self.assertTrue(status.disposed)
        self.assertEqual(list(status.options), [events_pb2.TARGET_DAN_REALISASI_DITELITI_ULANG])
        self.assertFalse({s.report_id: s for s in published.report.reports}[REPORT_ID].disposed)

    def test_report_as_of_a_time_and_a_position(self):
        at_time = self.client.get_report(UNIT, YEAR, 2, as_of=sakip_ledger.from_micros(
            self.correction.recorded_at_micros))
        self.assertEqual(at_time.as_of_position, self.correction.last_position)
        at_position = self.client.get_report(UNIT, YEAR, 2, as_of=self.correction.last_position)
        self.assertEqual(index_figures(at_position.report)[KEY].exact, "1003/25")

    def test_refusals_name_the_field(self):
        bad = proposed("klakah-2024-bad-1", sakip_event(UNIT, YEAR, realization_recorded={
            "indicator_id": "IKU-1", "quarter": 5, "value": "1"}))
        with self.assertRaises(LedgerError) as raised:
            self.client.record_events([bad])
        self.assertEqual(raised.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("quarter", raised.exception.message)
        with self.assertRaises(LedgerError) as raised:
            self.client.get_report("35.08.18", YEAR, 2)
        self.assertEqual(raised.exception.code, grpc.StatusCode.NOT_FOUND)

    def test_report_as_of_example(self):
        def run(*args):
            return subprocess.run(
                [sys.executable, os.path.join(EXAMPLES_DIR, "report_as_of.py"),
                 "--server", self.ledgerd.address, "--unit", UNIT, "--year", str(YEAR),
                 "--quarter", "2", *args], capture_output=True, text=True, timeout=60)
        published = run("--as-of", f"submitted:{REPORT_ID}")
        self.assertEqual(published.returncode, 0, published.stderr)
        self.assertIn("posisi 235", published.stdout)
        self.assertIn("57,45", published.stdout)
        self.assertIn("1.077.194.452,00", published.stdout)
        self.assertIn("WIB", published.stdout)
        now = run()
        self.assertIn("59,84", now.stdout)
        self.assertNotIn("57,45", now.stdout)
        self.assertIn("Target dan realisasi diteliti ulang", now.stdout)
        before_anything = run("--as-of", "2001-01-01")
        self.assertEqual(before_anything.returncode, 1)
        self.assertIn("NOT_FOUND", before_anything.stderr)



class AuditEndToEndTest(CorrectedReferenceLedger):
    """Through AuditService: skipped while the server answers UNIMPLEMENTED."""

    def audit(self, function, *args, **kwargs):
        """Calls an AuditService method (a generator is read to its end);
        skips the test when the server answers UNIMPLEMENTED."""
        try:
            result = function(*args, **kwargs)
            return list(result) if isinstance(result, types.GeneratorType) else result
        except LedgerError as error:
            skip_if_unimplemented(error, function.__name__)
            raise

    def test_history_lists_correction_and_disposition(self):
        entries = list(self.audit(self.client.history, UNIT, fiscal_years=[YEAR],
                                  event_types=["RealizationCorrected", "ReportDisposed"]))
        self.assertEqual([e.event_id for e in entries], [CORRECTION_ID, DISPOSITION_ID])
        correction, disposition = entries
        for entry in entries:
            self.assertEqual(entry.actor, ACTOR)
            self.assertEqual((entry.unit_code, entry.fiscal_year), (UNIT, YEAR))
            self.assertGreaterEqual(entry.recorded_at_micros, self.before_micros)
            self.assertLessEqual(entry.recorded_at_micros, self.after_micros)
        self.assertEqual(correction.position, self.correction.last_position)
        self.assertEqual(correction.recorded_at_micros, self.correction.recorded_at_micros)
        self.assertEqual(correction.event_type, "RealizationCorrected")
        self.assertEqual(correction.reason, CORRECTION_REASON)
        self.assertEqual(correction.quarter, 1)
        self.assertIn("indicator/IKU-1", correction.subjects)
        self.assertEqual(correction.refers_to_event_id, ORIGINAL_ID)
        self.assertIn(("realization", "37.84", "40.12"),
                      [(c.field, c.old_value, c.new_value) for c in correction.changes])
        self.assertEqual(disposition.event_type, "ReportDisposed")
        self.assertEqual(disposition.reason, DISPOSITION_REASON)
        self.assertIn(f"report/{REPORT_ID}", disposition.subjects)
        self.assertEqual(disposition.refers_to_event_id, SUBMISSION_ID)
        self.assertEqual(disposition.recorded_at_micros, self.disposition.recorded_at_micros)

        newest = list(self.audit(self.client.history, UNIT, subject="indicator/IKU-1",
                                 newest_first=True))
        self.assertEqual(newest[0].event_id, CORRECTION_ID)
        self.assertIn(ORIGINAL_ID, [e.event_id for e in newest])
        self.assertNotIn(DISPOSITION_ID, [e.event_id for e in newest])
        self.assertEqual([e.position for e in newest],
                         sorted((e.position for e in newest), reverse=True))
        by_report = [e.event_id for e in self.audit(self.client.history, UNIT,
                                                     subject=f"report/{REPORT_ID}")]
        self.assertEqual(by_report, [SUBMISSION_ID, DISPOSITION_ID])

    def test_history_pages_through_everything_once(self):
        entries = list(self.audit(self.client.history, "35.08", page_size=50))
        positions = [e.position for e in entries]
        self.assertEqual(positions, list(range(1, self.disposition.last_position + 1)))
        page = self.audit(self.client.history_page, "35.08", page_size=50)
        self.assertEqual(page.total_matching, len(entries))
        self.assertTrue(page.next_page_token)
        self.assertEqual(list(self.audit(self.client.history, "35.09")), [])

    def test_explain_names_original_and_correcting_event(self):
        now = self.audit(self.client.explain, UNIT, YEAR, 2, KEY)
        self.assertEqual(now.figure.exact, "1003/25")
        inputs = {i.event.event_id: i for i in now.inputs}
        self.assertIn(ORIGINAL_ID, inputs)
        self.assertIn(CORRECTION_ID, inputs)
        self.assertFalse(inputs[ORIGINAL_ID].in_force)
        self.assertEqual(inputs[ORIGINAL_ID].replaced_by_event_id, CORRECTION_ID)
        self.assertTrue(inputs[CORRECTION_ID].in_force)
        self.assertEqual(inputs[CORRECTION_ID].event.actor, ACTOR)
        self.assertEqual(inputs[CORRECTION_ID].event.position, self.correction.last_position)
        self.assertEqual([i.event.position for i in now.inputs],
                         sorted(i.event.position for i in now.inputs))

        published = self.audit(self.client.explain, UNIT, YEAR, 2, KEY, SubmissionOf(REPORT_ID))
        self.assertEqual(published.as_of_position, self.submission_position)
        self.assertEqual(published.figure.exact, "946/25")
        self.assertEqual([(i.event.event_id, i.in_force) for i in published.inputs],
                         [(ORIGINAL_ID, True)])

        # The year-end capaian depends on the year-end realization (and the
        # target), which depends on the corrected TW I realization.
        capaian = self.audit(self.client.explain, UNIT, YEAR, 2,
                             "indicator/IKU-1/year_end/capaian")
        self.assertIn("indicator/IKU-1/year_end/realization", capaian.depends_on)
        self.assertIn("indicator/IKU-1/target", capaian.depends_on)
        year_end = self.audit(self.client.explain, UNIT, YEAR, 2,
                              "indicator/IKU-1/year_end/realization")
        self.assertIn(KEY, year_end.depends_on)
        self.assertIn(CORRECTION_ID, [i.event.event_id for i in year_end.inputs])

    def test_diff_from_submission_to_now_is_exactly_the_changed_figures(self):
        diff = self.audit(self.client.diff, UNIT, YEAR, 2, SubmissionOf(REPORT_ID))
        self.assertEqual(diff.from_position, self.submission_position)
        self.assertEqual(diff.to_position, self.disposition.last_position)
        self.assertEqual({c.key for c in diff.changes}, EXPECTED_CHANGED)
        self.assertGreater(diff.figures_compared, len(EXPECTED_CHANGED))
        changes = {c.key: c for c in diff.changes}
        self.assertEqual((changes[KEY].before.exact, changes[KEY].after.exact),
                         ("946/25", "1003/25"))
        self.assertEqual(changes["indicator/IKU-1/year_end/capaian"].before.indonesian, "57,45")
        for change in diff.changes:
            self.assertEqual([e.event_id for e in change.events], [CORRECTION_ID], change.key)
        # The same moment on both sides: nothing changed.
        same = self.audit(self.client.diff, UNIT, YEAR, 2, SubmissionOf(REPORT_ID),
                          self.submission_position)
        self.assertEqual(list(same.changes), [])

    def test_late_entries_names_the_triwulan_ii_report(self):
        late = self.audit(self.client.late_entries, "35.08", YEAR)
        self.assertEqual([(r.unit_code, r.report_id, r.quarter) for r in late.reports],
                         [(UNIT, REPORT_ID, 2)])
        report = late.reports[0]
        self.assertEqual(report.submitted_position, self.submission_position)
        self.assertEqual({c.key for c in report.changes}, EXPECTED_CHANGED)
        self.assertIn(CORRECTION_ID, [e.event_id for e in report.late_events])
        self.assertNotIn(ORIGINAL_ID, [e.event_id for e in report.late_events])
        # As of the submission itself nothing is late yet.
        before = self.audit(self.client.late_entries, UNIT, YEAR, self.submission_position)
        self.assertEqual(list(before.reports), [])


if __name__ == "__main__":
    unittest.main()
