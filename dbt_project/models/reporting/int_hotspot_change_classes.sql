{{ config(materialized="ephemeral", contract={"enforced": false}) }}
-- The change classes of significant clusters (pipelines/hotspots/change.py: Getis-Ord Gi*
-- against the previous quarters), with the label the profile prints and their order. They
-- describe significance, not prediction: a predicted hotspot need not be a cluster, so the
-- labels name clusters, never "hotspot".
select
    named.change_class,
    named.change_label,
    cast(named.change_order as integer) as change_order
from (
    values
    ('new', 'Significant cluster: new', 1),
    ('intensifying', 'Significant cluster: intensifying', 2),
    ('persistent', 'Significant cluster: persistent', 3),
    ('diminishing', 'Significant cluster: diminishing', 4),
    ('former', 'Former significant cluster', 5)
) as named (change_class, change_label, change_order)
