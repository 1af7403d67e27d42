"""A deterministic synthetic generator of district submissions, with their ground truth.

    from generator import generate_submissions
    summary = generate_submissions(Path("data/landing"), "2006H1", "2010H2", scale=0.007, seed=2006)

writes `<code>_<period>.xlsx` for every reporting unit of `reporting_units.csv` and every
period it reports in (all seven sheets of ../shared/spec/submission-format.md, valid in every
rule), and `ground_truth.csv` with target figures computed from the generator's own tables —
beside the folder (`data/ground_truth.csv` here), never in it: a landing folder holds submissions only.

Modules: `universe` simulates each reporting unit's host units, organizations and members over
time; `events` draws a period's activities and training; `snapshot` assembles one submission as
polars frames; `xlsx` writes it; `truth` computes the targets; `profiles` holds every weight.
scale 1.0 is the city's size (about 1M members, 43k organizations, 750k activities a half-year).
"""

from .generator import DEFAULT_SCALE, GenerationSummary, default_truth_path, generate_submissions

__all__ = ["DEFAULT_SCALE", "GenerationSummary", "default_truth_path", "generate_submissions"]
