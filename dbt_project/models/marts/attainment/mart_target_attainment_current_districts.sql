-- The same targets by today's district: predecessors (塘沽/汉沽/大港 → 滨海新区 120116, following
-- successor codes) are summed into their successor period by period, and the cumulative, rising
-- and on_track rules run on that summed series. Plus the city (120000).
{{ target_attainment('current_district_code') }}
