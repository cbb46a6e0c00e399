"""Hypothesis strategies generating valid DLMS values and APDUs (style rule H32).

Everything drawn here encodes without error and decodes back to an equal object.
"""

from __future__ import annotations

from hypothesis import strategies as st

from smemu.protocols.dlms import axdr, classes, shapes
from smemu.protocols.dlms.apdu import (
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestGetWithSelection,
    AccessRequestMessage,
    AccessRequestSet,
    AccessRequestSetWithSelection,
    AccessRequestSpecification,
    AccessResponseAction,
    AccessResponseGet,
    AccessResponseMessage,
    AccessResponseSet,
    AccessResponseSpecification,
    DataNotificationMessage,
    DlmsMessage,
)
from smemu.protocols.dlms.axdr import Data, TypeDescription
from smemu.protocols.dlms.data import (
    SIMPLE_TYPE_SIZES,
    Array,
    BitString,
    Boolean,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    Long,
    LongUnsigned,
    NullData,
    OctetString,
    Structure,
    Unsigned,
    Utf8String,
    VisibleString,
    min_packed_size,
)
from smemu.protocols.dlms.protection import ProtectionParameters

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFF_FFFF)
# Mostly short, sometimes past the one-byte (127) and two-byte (255) length forms.
octets = st.one_of(st.binary(max_size=20), st.binary(min_size=120, max_size=300))


@st.composite
def bit_strings(draw: st.DrawFn) -> axdr.BitString:
    count = draw(st.one_of(st.integers(0, 40), st.integers(120, 300)))
    return axdr.BitString(
        count, draw(st.binary(min_size=(count + 7) // 8, max_size=(count + 7) // 8))
    )


def _simple(tag: int) -> st.SearchStrategy[Data]:
    """Values of one simple (non-container) type."""
    strategies: dict[int, st.SearchStrategy[Data]] = {
        0: st.just(axdr.NullData()),
        3: u8.map(axdr.Boolean),
        4: bit_strings(),
        5: st.integers(-(2**31), 2**31 - 1).map(axdr.DoubleLong),
        6: u32.map(axdr.DoubleLongUnsigned),
        9: octets.map(axdr.OctetString),
        10: octets.map(axdr.VisibleString),
        12: octets.map(axdr.Utf8String),
        13: u8.map(axdr.Bcd),
        15: st.integers(-128, 127).map(axdr.Integer),
        16: st.integers(-(2**15), 2**15 - 1).map(axdr.Long),
        17: u8.map(axdr.Unsigned),
        18: u16.map(axdr.LongUnsigned),
        20: st.integers(-(2**63), 2**63 - 1).map(axdr.Long64),
        21: st.integers(0, 2**64 - 1).map(axdr.Long64Unsigned),
        22: u8.map(axdr.Enum),
        23: st.binary(min_size=4, max_size=4).map(axdr.Float32),
        24: st.binary(min_size=8, max_size=8).map(axdr.Float64),
        25: st.builds(
            axdr.DateTime, u16, u8, u8, u8, u8, u8, u8, u8, st.integers(-(2**15), 2**15 - 1), u8
        ),
        26: st.builds(axdr.Date, u16, u8, u8, u8),
        27: st.builds(axdr.Time, u8, u8, u8, u8),
    }
    return strategies[tag]


SIMPLE_TAGS = sorted(SIMPLE_TYPE_SIZES)

#: Any simple (non-container, non-compact-array) Data value.
simple_values: st.SearchStrategy[Data] = st.sampled_from(SIMPLE_TAGS).flatmap(_simple)

#: Compact-array type descriptions (arrays never of zero-size elements).
type_descriptions: st.SearchStrategy[TypeDescription] = st.recursive(
    st.sampled_from(SIMPLE_TAGS).map(TypeDescription),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda fields: TypeDescription(2, 0, tuple(fields))),
        st.tuples(st.integers(0, 3), inner)
        .filter(lambda ce: ce[0] == 0 or min_packed_size(ce[1]) > 0)
        .map(lambda ce: TypeDescription(1, ce[0], (ce[1],))),
    ),
    max_leaves=6,
)


def packed_values(desc: TypeDescription) -> st.SearchStrategy[Data]:
    """One value of the type ``desc`` describes, as a compact-array holds it."""
    if desc.tag == 1:
        return st.lists(
            packed_values(desc.elements[0]), min_size=desc.count, max_size=desc.count
        ).map(lambda items: axdr.Array(tuple(items)))
    if desc.tag == 2:
        return st.tuples(*(packed_values(field) for field in desc.elements)).map(
            lambda items: axdr.Structure(tuple(items))
        )
    return _simple(desc.tag)


@st.composite
def compact_arrays(draw: st.DrawFn) -> axdr.CompactArray:
    desc = draw(type_descriptions)
    if min_packed_size(desc) == 0:
        return axdr.CompactArray(desc, ())
    values = draw(st.lists(packed_values(desc), max_size=4))
    return axdr.CompactArray(desc, tuple(values))


#: Any Data value, nested arrays/structures and compact arrays included.
data_values: st.SearchStrategy[Data] = st.recursive(
    st.one_of(simple_values, compact_arrays()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: axdr.Array(tuple(items))),
        st.lists(inner, max_size=4).map(lambda items: axdr.Structure(tuple(items))),
    ),
    max_leaves=12,
)

instance_ids = st.binary(min_size=6, max_size=6)
date_times = st.one_of(st.just(b""), st.binary(min_size=12, max_size=12), octets)


@st.composite
def request_specifications(draw: st.DrawFn) -> AccessRequestSpecification:
    choice = draw(st.integers(1, 5))
    class_id, instance, member = draw(u16), draw(instance_ids), draw(u8)
    if choice == 1:
        return AccessRequestGet(class_id, instance, member)
    if choice == 2:
        return AccessRequestSet(class_id, instance, member)
    if choice == 3:
        return AccessRequestAction(class_id, instance, member)
    kind = AccessRequestGetWithSelection if choice == 4 else AccessRequestSetWithSelection
    return kind(class_id, instance, member, draw(u8), draw(data_values))


response_specifications: st.SearchStrategy[AccessResponseSpecification] = st.one_of(
    u8.map(AccessResponseGet), u8.map(AccessResponseSet), u8.map(AccessResponseAction)
)

access_requests = st.builds(
    AccessRequestMessage,
    u32,
    date_times,
    st.lists(request_specifications(), max_size=4).map(tuple),
    st.lists(data_values, max_size=4).map(tuple),
)

access_responses = st.builds(
    AccessResponseMessage,
    u32,
    date_times,
    st.lists(data_values, max_size=4).map(tuple),
    st.lists(response_specifications, max_size=4).map(tuple),
    st.one_of(st.none(), st.lists(request_specifications(), max_size=3).map(tuple)),
)

data_notifications = st.builds(DataNotificationMessage, u32, date_times, data_values)

#: Any DLMS APDU of GBCS.
dlms_messages: st.SearchStrategy[DlmsMessage] = st.one_of(
    access_requests, access_responses, data_notifications
)

# ------------------------------------------------------------------ protected data (IC 30)

euis = st.binary(min_size=8, max_size=8)

#: Ciphered blocks ``31 | IC(4) | ciphertext | tag(12)``.
ciphered_blocks = st.tuples(st.binary(min_size=4, max_size=4), st.binary(max_size=300)).map(
    lambda parts: b"\x31" + parts[0] + parts[1] + bytes(12)
)

#: GBCS protection parameters (one array entry).
protection_parameters = st.builds(
    ProtectionParameters,
    st.just(2),
    st.integers(0, 2**64 - 1).map(lambda c: b"\x04" + c.to_bytes(8, "big")),
    euis,
    euis,
    st.just(b""),
    st.just(
        axdr.Structure(
            (
                axdr.Enum(2),
                axdr.Structure((axdr.OctetString(b"\x02"), axdr.OctetString(b""))),
            )
        )
    ),
)


# ------------------------------------------------------------------ typed COSEM views

from smemu.protocols.dlms import cosem  # noqa: E402 - views section of this module

i8 = st.integers(-128, 127)
names = st.one_of(st.binary(min_size=1, max_size=1), st.binary(min_size=2, max_size=12))
date_time_octets = st.binary(min_size=12, max_size=12)

season_profiles = st.builds(cosem.SeasonProfile, names, date_time_octets, names)
week_profiles = st.builds(
    cosem.WeekProfile, names, st.tuples(u8, u8, u8, u8, u8, u8, u8)
)
day_actions = st.builds(
    cosem.DayScheduleAction,
    st.binary(min_size=4, max_size=4),
    instance_ids,
    u16,
)
day_profiles = st.builds(cosem.DayProfile, u8, st.lists(day_actions, max_size=6).map(tuple))
special_days = st.builds(cosem.SpecialDay, u16, st.binary(min_size=5, max_size=5), u8)
scaler_units = st.builds(cosem.ScalerUnit, i8, u8)
charge_entries = st.builds(
    cosem.ChargeTableEntry, st.binary(max_size=2), st.integers(-(2**15), 2**15 - 1)
)
unit_charges = st.builds(
    cosem.UnitCharge,
    i8,
    i8,
    u16,
    instance_ids,
    i8,
    st.lists(charge_entries, max_size=10).map(tuple),
)
capture_objects = st.builds(cosem.CaptureObject, u16, instance_ids, i8, u16)

#: (view name in smemu.protocols.dlms.views, strategy of its typed value)
typed_views = st.one_of(
    st.tuples(st.just("season_profiles"), st.lists(season_profiles, max_size=4).map(tuple)),
    st.tuples(st.just("week_profiles"), st.lists(week_profiles, max_size=4).map(tuple)),
    st.tuples(st.just("day_profiles"), st.lists(day_profiles, max_size=4).map(tuple)),
    st.tuples(st.just("special_days"), st.lists(special_days, max_size=6).map(tuple)),
    st.tuples(st.just("scaler_unit"), scaler_units),
    st.tuples(st.just("unit_charge"), unit_charges),
    st.tuples(st.just("capture_objects"), st.lists(capture_objects, max_size=4).map(tuple)),
    st.tuples(st.just("date_time"), date_time_octets),
    st.tuples(st.just("thresholds"), st.lists(u32, max_size=3).map(tuple)),
    st.tuples(st.just("control_state"), u8),
    st.tuples(st.just("account_mode"), st.builds(classes.AccountMode, u8, u8)),
    st.tuples(
        st.just("emergency_profile"),
        st.builds(classes.EmergencyProfile, u16, date_time_octets, u32),
    ),
    st.tuples(
        st.just("execution_times"),
        st.lists(
            st.builds(
                classes.ExecutionTime,
                st.binary(min_size=4, max_size=4),
                st.binary(min_size=5, max_size=5),
            ),
            max_size=4,
        ).map(tuple),
    ),
    st.tuples(st.sampled_from(["limiter_value", "duration"]), u32),
    st.tuples(st.just("credit_amount"), st.integers(-(2**31), 2**31 - 1)),
    st.tuples(st.sampled_from(["control_mode"]), u8),
    st.tuples(st.just("script_selector"), u16),
    st.tuples(st.just("output_state"), st.sampled_from([0, 0xFF, 1])),
    st.tuples(st.just("token"), st.binary(max_size=20)),
)

_LEAF_VALUES: dict[type, st.SearchStrategy[Data]] = {
    DoubleLongUnsigned: u32.map(DoubleLongUnsigned),
    DoubleLong: st.integers(-(2**31), 2**31 - 1).map(DoubleLong),
    LongUnsigned: u16.map(LongUnsigned),
    Long: st.integers(-(2**15), 2**15 - 1).map(Long),
    Unsigned: u8.map(Unsigned),
    Integer: i8.map(Integer),
    Enum: u8.map(Enum),
    Boolean: st.sampled_from([0, 0xFF]).map(Boolean),
    OctetString: st.binary(max_size=12).map(OctetString),
    VisibleString: st.binary(max_size=12).map(VisibleString),
    NullData: st.just(NullData()),
    BitString: st.integers(0, 3).flatmap(
        lambda n: st.binary(min_size=n, max_size=n).map(lambda b: BitString(8 * len(b), b))
    ),
    Utf8String: st.binary(max_size=12).map(Utf8String),
}


def shaped_values(shape: shapes.Shape) -> st.SearchStrategy[Data]:
    """Data values that fit a use-case object's field shape (optional members included)."""
    if isinstance(shape, shapes.Leaf):
        cls = shapes.data_class(shape.type)
        return _LEAF_VALUES[cls] if cls is not None else data_values
    if isinstance(shape, shapes.Record):
        return st.tuples(*(shaped_values(m) for m in shape.members)).map(Structure)
    return st.lists(shaped_values(shape.element), max_size=min(shape.high, 3)).map(
        lambda xs: Array(tuple(xs))
    )
