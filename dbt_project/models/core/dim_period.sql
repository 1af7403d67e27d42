-- Reporting periods (half-years), from the periods seed.
{{ typed_periods() }}
