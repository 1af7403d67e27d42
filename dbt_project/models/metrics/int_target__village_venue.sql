-- village_venue: 行政村 whose village organization has an activity venue.
-- The sum of its items: items/int_target_items__village_venue.sql.
{{ target_from_items('village_venue') }}
