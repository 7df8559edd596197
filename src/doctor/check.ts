/** One line of doctor's report: what was checked, how it went, and what to do about it. */

export type CheckStatus = "PASS" | "FAIL" | "WARN";

export interface DoctorCheck {
  id: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a FAIL or WARN. */
  hint?: string;
}
