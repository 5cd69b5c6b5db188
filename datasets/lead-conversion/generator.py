"""Synthetic data for the B2B lead-conversion task (LG Aimers 4th round, 2024).

Each row is one marketing-qualified lead (MQL): who the customer is, where, which business unit
and product it asked about, how it was verified, and which sales owner took it; the target
``is_converted`` says whether the lead became a sales opportunity. Conversion follows a logistic
model of the fields (the owner and the repeat customer weigh most, then BANT, timeline, inquiry
type, business unit, subsidiary and the verification flags): the 8.2% of each file's leads with
the highest latent utility (log-odds plus logistic noise) convert. Many fields are empty, as in
the real CRM export.

Owner, customer and subsidiary effects are drawn once per seed and shared by train and test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from datasets._common import (
    LABELS_CSV,
    SAMPLE_CSV,
    TEST_CSV,
    TRAIN_CSV,
    assign_usage,
    bool_strings,
    check_rows,
    float_column,
    int_column,
    public_fraction,
    read_task_toml,
    str_column,
    task_rng,
    write_csv,
)

TASK = "lead-conversion"
DEFAULT_TEST_ROWS = 5_271
TRAIN_ROWS = 59_299
MIN_TEST_ROWS = 50  # at least 4 converted leads, so that both splits have one
POSITIVE_RATE = 0.082
N_CUSTOMERS = 47_000
N_OWNERS = 1_100

# subsidiary: (country, cities, share, effect on the conversion log-odds)
SUBSIDIARIES = {
    "LGEIL": ("India", ("Mumbai", "New Delhi", "Bengaluru", "Chennai", "Hyderabad", "Pune"), 0.22, 0.9),
    "LGESP": ("Brazil", ("Sao Paulo", "Rio de Janeiro", "Curitiba"), 0.11, -0.2),
    "LGEUS": ("United States", ("New York", "Los Angeles", "Chicago", "Houston", "Atlanta"), 0.10, -0.1),
    "LGEGF": ("Germany", ("Berlin", "Munich", "Frankfurt", "Hamburg"), 0.07, -0.3),
    "LGEUK": ("United Kingdom", ("London", "Manchester", "Birmingham"), 0.05, -0.2),
    "LGEPH": ("Philippines", ("Manila", "Quezon City", "Cebu"), 0.06, 0.3),
    "LGEMS": ("Malaysia", ("Kuala Lumpur", "Penang"), 0.04, 0.1),
    "LGEES": ("Spain", ("Madrid", "Barcelona", "Valencia"), 0.04, -0.1),
    "LGEFS": ("France", ("Paris", "Lyon", "Marseille"), 0.04, -0.3),
    "LGECL": ("Chile", ("Santiago", "Valparaiso"), 0.03, 0.2),
    "LGEAR": ("Argentina", ("Buenos Aires", "Cordoba"), 0.03, 0.0),
    "LGEPL": ("Poland", ("Warsaw", "Krakow"), 0.03, -0.2),
    "LGEJP": ("Japan", ("Tokyo", "Osaka"), 0.03, -0.4),
    "LGEVH": ("Vietnam", ("Hanoi", "Ho Chi Minh City"), 0.03, 0.4),
    "LGESJ": ("Saudi Arabia", ("Riyadh", "Jeddah"), 0.03, 0.2),
    "LGEAP": ("Australia", ("Sydney", "Melbourne", "Brisbane"), 0.03, -0.1),
    "LGEIS": ("Italy", ("Milan", "Rome", "Turin"), 0.03, -0.2),
    "LGECB": ("Colombia", ("Bogota", "Medellin"), 0.03, 0.3),
}
# business unit: (share, effect, product categories)
BUSINESS_UNITS = {
    "AS": (0.47, -0.3, ("multi-split", "single-split", "vrf", "chiller", "heating", "ventilation", "rac")),
    "ID": (0.29, 0.5, ("interactive digital board", "video wall signage", "standard signage",
                       "oled signage", "led signage", "high brightness signage", "hotel tv",
                       "one:quick series", "pro:centric", "webos")),
    "IT": (0.15, 0.2, ("monitor", "laptop", "projector", "cloud device", "medical display")),
    "Solution": (0.08, 0.6, ("solar", "ess", "software solution", "ems")),
    "CM": (0.01, 0.0, ("car infotainment", "commercial display")),
}  # fmt: skip
# field: ((value, share, effect), ...); a value None is an empty cell.
CHOICES: dict[str, tuple[tuple[str | None, float, float], ...]] = {
    "customer_type": (
        (None, 0.60, 0.0), ("End-Customer", 0.15, 0.6), ("Specifier/ Influencer", 0.07, -0.2),
        ("Channel Partner", 0.05, 0.3), ("Service Partner", 0.03, 0.1),
        ("Solution Eco-Partner", 0.02, 0.2), ("End Customer", 0.02, 0.5), ("Installer", 0.02, 0.0),
        ("Developer", 0.01, -0.1), ("Corporate", 0.01, 0.2), ("Other", 0.02, -0.3),
    ),
    "customer_job": (
        (None, 0.33, 0.0), ("engineering", 0.12, 0.1), ("purchasing", 0.08, 0.5),
        ("information technology", 0.08, 0.1), ("administrative", 0.07, 0.0),
        ("sales", 0.06, -0.1), ("operations", 0.05, 0.1), ("education", 0.04, 0.0),
        ("business development", 0.04, 0.1), ("entrepreneurship", 0.03, 0.2), ("other", 0.10, -0.2),
    ),
    "inquiry_type": (
        (None, 0.03, -0.3), ("Quotation or purchase consultation", 0.50, 0.5),
        ("Request for quotation or purchase", 0.10, 0.6), ("Product Information", 0.08, -0.4),
        ("Sales Inquiry", 0.08, 0.2), ("Technical Consultation", 0.05, -0.5),
        ("Request a Demo", 0.05, 0.1), ("Usage or technical consultation", 0.04, -0.8),
        ("Request for Distributorship", 0.02, -0.3), ("Others", 0.05, -0.6),
    ),
    "customer_position": (
        ("entry level", 0.20, -0.2), ("manager", 0.15, 0.2), ("ceo/founder", 0.12, 0.3),
        ("director", 0.10, 0.2), ("none", 0.08, -0.3), ("partner", 0.05, 0.1),
        ("vice president", 0.04, 0.2), ("c-level executive", 0.04, 0.3),
        ("associate/analyst", 0.06, 0.0), ("other", 0.10, -0.2), ("trainee", 0.02, -0.4),
        ("end-user", 0.04, -0.1),
    ),
    "expected_timeline": (
        (None, 0.54, -0.2), ("less than 3 months", 0.25, 0.8), ("3 months ~ 6 months", 0.10, 0.3),
        ("6 months ~ 9 months", 0.04, 0.0), ("9 months ~ 1 year", 0.02, -0.2),
        ("more than a year", 0.03, -0.5), ("being followed up", 0.02, 0.6),
    ),
    "business_area": (
        (None, 0.68, 0.0), ("corporate / office", 0.08, 0.3), ("retail", 0.05, 0.2),
        ("hospital & health care", 0.03, 0.3), ("education", 0.04, 0.4),
        ("residential (home)", 0.03, -0.2), ("public facility", 0.03, 0.2),
        ("hotel & accommodation", 0.02, 0.4), ("factory", 0.02, 0.1),
        ("transportation", 0.01, 0.0), ("special purpose", 0.005, 0.0),
        ("power plant / renewable energy", 0.005, 0.2),
    ),
}  # fmt: skip
SUBAREAS = (
    "General Hospital", "Private Office", "Public Office", "Shopping Mall", "Hotel",
    "K12 Kindergarten & Schools", "Manufacturing", "Airport", "Apartment", "Bank",
)
SUBCATEGORIES = ("All Medical Displays", "Interactive Digital Board", "TR3DK Series", "Single CAC",
                 "Outdoor Unit", "Commercial Display", "Multi V")  # fmt: skip
MODEL_NAMES = ("86TR3DK", "75TR3DK", "65TR3DK", "55VSM5J", "49VL5G", "32HL512D", "ARUN080LTE5",
               "MU5M40", "LSU240HSV5", "43UH5J")  # fmt: skip
COLUMNS = (
    "bant_submit", "customer_country", "business_unit", "com_reg_ver_win_rate", "customer_idx",
    "customer_type", "enterprise", "historical_existing_cnt", "id_strategic_ver",
    "it_strategic_ver", "idit_strategic_ver", "customer_job", "lead_desc_length", "inquiry_type",
    "product_category", "product_subcategory", "product_modelname", "customer_country.1",
    "customer_position", "response_corporate", "expected_timeline", "ver_cus", "ver_pro",
    "ver_win_rate_x", "ver_win_ratio_per_bu", "business_area", "business_subarea", "lead_owner",
)  # fmt: skip


@dataclass(frozen=True)
class _Effects:
    """Per-seed effects shared by train and test rows."""

    customer: np.ndarray  # (N_CUSTOMERS,)
    customer_weight: np.ndarray  # (N_CUSTOMERS,) how often each customer sends leads
    owner: np.ndarray  # (N_OWNERS,)
    owner_weight: np.ndarray  # (N_OWNERS,)
    win_rate: np.ndarray  # (n_units, n_areas) ver_win_rate_x per unit and business area
    win_ratio: np.ndarray  # (n_units, n_areas) ver_win_ratio_per_bu


def _effects(seed: int) -> _Effects:
    rng = task_rng(seed, TASK, "effects")
    n_areas = len(CHOICES["business_area"])
    customer_weight = rng.pareto(1.5, N_CUSTOMERS) + 0.2
    owner_weight = rng.pareto(1.2, N_OWNERS) + 0.1
    return _Effects(
        customer=rng.normal(0.0, 1.0, N_CUSTOMERS),
        customer_weight=customer_weight / customer_weight.sum(),
        owner=rng.normal(0.0, 1.1, N_OWNERS),
        owner_weight=owner_weight / owner_weight.sum(),
        win_rate=np.round(rng.beta(1.2, 12.0, (len(BUSINESS_UNITS), n_areas)), 6),
        win_ratio=np.round(rng.beta(2.0, 8.0, (len(BUSINESS_UNITS), n_areas)), 6),
    )


def _pick(rng: np.random.Generator, field: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return values (text), an empty-cell mask and the log-odds effect of a CHOICES field."""
    options = CHOICES[field]
    shares = np.array([share for _, share, _ in options])
    k = rng.choice(len(options), n, p=shares / shares.sum())
    values = np.array([value or "" for value, _, _ in options], dtype=object)[k]
    missing = np.array([value is None for value, _, _ in options])[k]
    effect = np.array([effect for _, _, effect in options])[k]
    return values.astype(str), missing, effect


def _rows(
    rng: np.random.Generator, fx: _Effects, n: int
) -> tuple[dict[str, pa.Array], np.ndarray]:
    """Return the 28 feature columns and the conversion log-odds (without intercept)."""
    logit = np.zeros(n)
    subs = list(SUBSIDIARIES)
    sub_share = np.array([v[2] for v in SUBSIDIARIES.values()])
    sub = rng.choice(len(subs), n, p=sub_share / sub_share.sum())
    logit += np.array([v[3] for v in SUBSIDIARIES.values()])[sub]
    country = np.empty(n, dtype=object)
    for k, name in enumerate(subs):
        rows = np.flatnonzero(sub == k)
        nation, cities, _, _ = SUBSIDIARIES[name]
        city = np.array(cities + ("",), dtype=object)[rng.integers(0, len(cities) + 1, rows.size)]
        country[rows] = "/" + city + "/" + nation
    country_missing = rng.random(n) < 0.02

    units = list(BUSINESS_UNITS)
    unit_share = np.array([v[0] for v in BUSINESS_UNITS.values()])
    unit = rng.choice(len(units), n, p=unit_share / unit_share.sum())
    logit += 1.5 * np.array([v[1] for v in BUSINESS_UNITS.values()])[unit]
    category = np.empty(n, dtype=object)
    for k, name in enumerate(units):
        rows = np.flatnonzero(unit == k)
        options = BUSINESS_UNITS[name][2]
        category[rows] = np.array(options, dtype=object)[rng.integers(0, len(options), rows.size)]
    category_missing = rng.random(n) < 0.33

    customer = rng.choice(N_CUSTOMERS, n, p=fx.customer_weight)
    owner = rng.choice(N_OWNERS, n, p=fx.owner_weight)
    logit += 0.9 * fx.customer[customer] + fx.owner[owner]

    enterprise = rng.random(n) < 0.62
    logit += 0.3 * enterprise
    bant = rng.choice([0.0, 0.25, 0.5, 0.75, 1.0], n, p=[0.15, 0.3, 0.25, 0.2, 0.1])
    logit += 2.2 * bant
    win_rate = np.where(rng.random(n) < 0.25, rng.choice([0.003, 0.05, 0.07, 0.33, 0.5, 1.0], n), np.nan)
    logit += np.nan_to_num(win_rate) * 1.5
    hist = np.where(rng.random(n) < 0.23, rng.geometric(0.15, n), np.nan)
    logit += 1.2 * ~np.isnan(hist)
    id_ver = np.where((unit == units.index("ID")) & (rng.random(n) < 0.12), 1.0, np.nan)
    it_ver = np.where((unit == units.index("IT")) & (rng.random(n) < 0.15), 1.0, np.nan)
    idit_ver = np.where(~np.isnan(id_ver) | ~np.isnan(it_ver), 1.0, np.nan)
    logit += 0.9 * ~np.isnan(idit_ver)
    desc = np.clip(np.round(rng.lognormal(4.0, 1.2, n)), 1, 5000).astype(np.int64)
    desc_missing = rng.random(n) < 0.3
    logit += np.where(desc_missing, -0.2, 0.25 * (np.log(desc) - 4.0))

    fields = {}
    for field in CHOICES:
        values, missing, effect = _pick(rng, field, n)
        fields[field] = str_column(values, missing)
        logit += 1.6 * effect
    area_index = rng.choice(len(CHOICES["business_area"]), n)  # for the verification tables only
    area_missing = np.asarray(fields["business_area"].is_null())
    customer_type = np.asarray(fields["customer_type"].fill_null("").to_numpy(zero_copy_only=False))
    ver_cus = ((rng.random(n) < 0.05) | (np.isin(customer_type, ["End-Customer", "End Customer"])
                                         & (rng.random(n) < 0.4))).astype(np.int64)  # fmt: skip
    ver_pro = ((rng.random(n) < 0.04) & ~category_missing).astype(np.int64)
    logit += 0.7 * ver_cus + 0.5 * ver_pro
    ver_rate = np.where(area_missing, np.nan, fx.win_rate[unit, area_index])
    ver_ratio = np.where(area_missing, np.nan, fx.win_ratio[unit, area_index])
    logit += np.nan_to_num(ver_ratio) * 1.2
    subarea_missing = area_missing | (rng.random(n) < 0.7)
    subarea = np.array(SUBAREAS)[rng.integers(0, len(SUBAREAS), n)]
    sub_cat_missing = rng.random(n) < 0.85
    sub_cat = np.array(SUBCATEGORIES)[rng.integers(0, len(SUBCATEGORIES), n)]
    model_missing = rng.random(n) < 0.85
    model = np.array(MODEL_NAMES)[rng.integers(0, len(MODEL_NAMES), n)]

    country_col = str_column(country.astype(str), country_missing)
    columns = {
        "bant_submit": float_column(bant),
        "customer_country": country_col,
        "business_unit": str_column(np.array(units)[unit]),
        "com_reg_ver_win_rate": float_column(win_rate, 6),
        "customer_idx": int_column(customer),
        "customer_type": fields["customer_type"],
        "enterprise": str_column(np.where(enterprise, "Enterprise", "SMB")),
        "historical_existing_cnt": float_column(hist),
        "id_strategic_ver": float_column(id_ver),
        "it_strategic_ver": float_column(it_ver),
        "idit_strategic_ver": float_column(idit_ver),
        "customer_job": fields["customer_job"],
        "lead_desc_length": int_column(desc, desc_missing),
        "inquiry_type": fields["inquiry_type"],
        "product_category": str_column(category.astype(str), category_missing),
        "product_subcategory": str_column(sub_cat, sub_cat_missing),
        "product_modelname": str_column(model, model_missing),
        "customer_country.1": country_col,
        "customer_position": fields["customer_position"],
        "response_corporate": str_column(np.array(subs)[sub]),
        "expected_timeline": fields["expected_timeline"],
        "ver_cus": int_column(ver_cus),
        "ver_pro": int_column(ver_pro),
        "ver_win_rate_x": float_column(ver_rate, 6),
        "ver_win_ratio_per_bu": float_column(ver_ratio, 6),
        "business_area": fields["business_area"],
        "business_subarea": str_column(subarea, subarea_missing),
        "lead_owner": int_column(owner),
    }
    assert tuple(columns) == COLUMNS
    return columns, logit


def _convert(rng: np.random.Generator, logit: np.ndarray) -> np.ndarray:
    """Return which leads convert: the ``round(n · POSITIVE_RATE)`` highest latent utilities.

    The utility is the log-odds plus logistic noise, the latent-variable form of a logistic
    model; fixing the count keeps the positive rate, and the F1 of any split, well defined.
    """
    utility = logit + rng.logistic(0.0, 1.0, logit.size)
    converted = np.zeros(logit.size, dtype=bool)
    converted[np.argsort(-utility, kind="stable")[: int(round(logit.size * POSITIVE_RATE))]] = True
    return converted


def generate(out_dir: Path, *, rows: int | None, seed: int) -> None:
    """Write train, test, sample submission and labels for the lead-conversion task."""
    n_test = check_rows(rows, DEFAULT_TEST_ROWS, minimum=MIN_TEST_ROWS)
    spec = read_task_toml(__file__)
    fx = _effects(seed)

    rng = task_rng(seed, TASK, "train")
    columns, logit = _rows(rng, fx, TRAIN_ROWS)
    converted = _convert(rng, logit)
    write_csv(out_dir / TRAIN_CSV, {**columns, "is_converted": bool_strings(converted)})

    rng = task_rng(seed, TASK, "test")
    columns, logit = _rows(rng, fx, n_test)
    converted = _convert(rng, logit)
    ids = pa.array(np.arange(n_test, dtype=np.int64))
    write_csv(out_dir / TEST_CSV, {"id": ids, **columns})
    rng = task_rng(seed, TASK, "usage")
    usage = assign_usage(n_test, public_fraction(spec), rng, strata=converted)
    write_csv(out_dir / LABELS_CSV, {"id": ids, "is_converted": bool_strings(converted),
                                     "Usage": usage})  # fmt: skip
    write_csv(out_dir / SAMPLE_CSV, {"id": ids, "is_converted": bool_strings(np.zeros(n_test))})
