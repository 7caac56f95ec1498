// How often simulated readers act between deliveries (`npm start -- --from D --days N`). Rates are per day;
// "per 1,000" means per 1,000 of the tenant's readers who could do it that day (active LINE readers for a
// stop, maternity readers for a loss). They are assumptions chosen to give a month of plausible history, each
// with the reasoning behind it; none is a measurement of a real municipality.

export interface SimulationRates {
  /** New parent registrations a day per 1,000 active readers. */
  registrationsPer1000: number;
  /** Share of new registrations that use the email sign-up page (where the tenant offers email). */
  emailShare: number;
  /** Share of new registrations that are pregnancies (the rest register a child already born). */
  maternityShare: number;
  /** Share of new LINE parents whose partner joins with the invite code the same day. */
  partnerShare: number;
  /** Probability a day that a reader due in the next days or past the due date reports the birth. */
  birthPerDayNearDue: number;
  /** Pauses ("お休み", one week) a day per 1,000 active LINE readers. */
  pausesPer1000: number;
  /** Probability a day that a paused reader resumes early ("再開"). */
  resumePerDay: number;
  /** Stops on request ("配信停止") a day per 1,000 active LINE readers. */
  stopsPer1000: number;
  /** Unfollows (blocking the account) a day per 1,000 active LINE readers. */
  unfollowsPer1000: number;
  /** Loss reports a day per 1,000 active maternity readers. */
  lossesPer1000: number;
  /** Share of readers invited to a survey that day who answer it in the chat. */
  surveyAnswerShare: number;
  /** Readers a day per 1,000 who ask for a survey themselves ("アンケート") where one is open on request. */
  surveyRequestsPer1000: number;
  /** LINE readers a day per 1,000 who start the mental health check themselves (こころの健康チェック). */
  screeningsPer1000: number;
  /** Share of readers asked for their consent to share the result who give it (the others are not screened). */
  screeningConsentShare: number;
  /** Share of readers starting a check themselves who answer as someone at or over the cut-off would. */
  screeningHighShare: number;
  /** The same share for parents answering an EPDS their daily message invited them to. */
  invitedScreeningHighShare: number;
  /** Probability a day that a reader at or over the cut-off two weeks or more ago screens again. */
  rescreenPerDay: number;
  /** Share of those rescreened who answer as someone now below the cut-off would. */
  rescreenImprovedShare: number;
  /** Inquiries a day per 1,000 active readers (LINE chat and the email form alike). */
  inquiriesPer1000: number;
  /** Probability a day that the staff answer an open inquiry (their target is a few working days). */
  staffReplyPerDay: number;
}

export const DEFAULT_RATES: SimulationRates = {
  // A reader stays about 700 days on average (pregnancy from about 10 weeks, then the child's first years;
  // many leave early), so a steady population of N readers takes in about N / 700 a day: 1.5 per 1,000.
  registrationsPer1000: 1.5,
  // The demo population's share of email readers (local/seed.ts): most municipal sign-ups are LINE friends.
  emailShare: 0.2,
  // Most registrations come with the pregnancy notification (母子健康手帳 handed out with the QR code);
  // the others at the newborn visit (こんにちは赤ちゃん事業).
  maternityShare: 0.65,
  partnerShare: 0.2,
  // Births spread over 37w-42w: about a quarter a day of those in the window report it.
  birthPerDayNearDue: 0.25,
  pausesPer1000: 0.5,
  resumePerDay: 0.15,
  stopsPer1000: 0.3,
  // Blocking is the usual way LINE readers leave: about twice the explicit stops.
  unfollowsPer1000: 0.7,
  // About 3 % of pregnancies registered around 10 weeks end in a loss later (late miscarriage, stillbirth)
  // over the ~200 days that follow: 0.15 per 1,000 a day.
  lossesPer1000: 0.15,
  surveyAnswerShare: 0.4,
  surveyRequestsPer1000: 2,
  // Self-started checks are rarer than invited surveys: a few readers a day in a town of 1,000.
  screeningsPer1000: 1,
  screeningConsentShare: 0.85,
  // About 10-15 % of perinatal women screen positive on the EPDS in Japanese studies (invited: 0.12); a reader
  // who starts the check herself is more likely to be worried, so 0.2.
  screeningHighShare: 0.2,
  invitedScreeningHighShare: 0.12,
  // Staff contact a reader at or over the cut-off; some check again once the support helps.
  rescreenPerDay: 0.1,
  rescreenImprovedShare: 0.6,
  inquiriesPer1000: 1,
  staffReplyPerDay: 0.6,
};

/** Deterministic Poisson draw (Knuth) from a uniform source: how many of a rare event happen on a day. */
export function poisson(mean: number, rand: () => number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  for (let p = rand(); p > limit; p *= rand()) k++;
  return k;
}
