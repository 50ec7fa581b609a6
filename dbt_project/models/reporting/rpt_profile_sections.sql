-- The profile's sections in the order they are printed: the contents list and each section's
-- heading (numbered, but for the settings appendix). What a section prints, item by item, is
-- declared in this model's YAML (`config.meta.items`) and rendered by pipelines.report.sections.
with

named as (
    select
        listed.section_order,
        listed.section,
        listed.title,
        listed.is_numbered
    from (
        values
        (1, 'assessment', 'Assessment', true),
        (2, 'key-findings', 'Key findings', true),
        (3, 'scope', 'Scope and data quality', true),
        (4, 'demand', 'Demand and trends', true),
        (5, 'victims', 'Victims', true),
        (6, 'perpetrators', 'Perpetrators', true),
        (7, 'splits', 'Domestic abuse and online', true),
        (8, 'locations', 'Locations', true),
        (9, 'orders', 'Protective orders', true),
        (10, 'compliance', 'Victims'' Code and SPO compliance', true),
        (11, 'intelligence', 'Intelligence', true),
        (12, 'forecast', 'Demand forecast for the Force Management Statement', true),
        (13, 'gaps', 'Information gaps', true),
        (14, 'methodology', 'Methodology and definitions', true),
        (15, 'settings', 'Appendix: settings changed from the defaults', false)
    ) as listed (section_order, section, title, is_numbered)
),

final as (
    select
        cast(section_order as integer) as section_order,
        section,
        title,
        case
            when is_numbered then cast(section_order as varchar) || '. ' || title
            else title
        end as heading
    from named
)

select * from final
