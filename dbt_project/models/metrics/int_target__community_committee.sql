-- community_committee: communities covered by a 党委 or 党总支.
-- The sum of its items: items/int_target_items__community_committee.sql.
{{ target_from_items('community_committee') }}
