-- The forecast models in plain words (statsforecast names in the warehouse): the label a
-- table prints for a series' model and the words for each model as a part of the ensemble's
-- average. The ensemble's own label names its configured members in order
-- (forecasting.ensemble_members), e.g. 'average of ARIMA and the growth shared by the force's
-- series'; member_order is a base model's place among those members (null if not one).
{%- set members = setting('forecasting')['ensemble_members'] %}
with

base_models as (
    select
        labels.model,
        labels.model_label,
        labels.member_label
    from (
        values
        ('naive', 'naive (last month repeated)', 'the last month repeated'),
        (
            'seasonal_naive',
            'seasonal naive (same month last year)',
            'the same month last year'
        ),
        ('ets', 'exponential smoothing (ETS)', 'exponential smoothing (ETS)'),
        ('theta', 'Theta', 'Theta'),
        ('arima', 'ARIMA', 'ARIMA'),
        (
            'pooled_drift',
            'same month last year grown at the rate shared by the force''s series',
            'the growth shared by the force''s series'
        )
    ) as labels (model, model_label, member_label)
),

ensemble_members as (
    select
        configured.member_order,
        configured.model,
        coalesce(base_models.member_label, configured.model) as member_label
    from (
        select
            generate_subscripts(listed.members, 1) as member_order,
            unnest(listed.members) as model
        from (
            select
                [
                    {%- for member in members %}'{{ member }}'{% if not loop.last %}, {% endif %}
                    {%- endfor -%}
                ]::varchar[] as members
        ) as listed
    ) as configured
    left join base_models
        on configured.model = base_models.model
),

last_member as (
    select max(ensemble_members.member_order) as member_order
    from ensemble_members
),

-- 'A', 'A and B', 'A, B and C'
ensemble as (
    select
        'ensemble' as model,
        'average of ' || case
            when count(*) < 2 then coalesce(string_agg(members.member_label, ''), '')
            else
                string_agg(members.member_label, ', ' order by members.member_order)
                filter (where members.member_order < last_member.member_order)
                || ' and ' || arg_max(members.member_label, members.member_order)
        end as model_label,
        null as member_label,
        null as member_order
    from ensemble_members as members
    cross join last_member
),

final as (
    select
        base_models.model,
        base_models.model_label,
        base_models.member_label,
        cast(ensemble_members.member_order as integer) as member_order
    from base_models
    left join ensemble_members
        on base_models.model = ensemble_members.model
    union all
    select
        model,
        model_label,
        member_label,
        cast(member_order as integer) as member_order
    from ensemble
)

select * from final
