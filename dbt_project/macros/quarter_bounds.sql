{#- First day of a 'YYYY-Qn' quarter string (twin of pipelines/quarters.quarter_start). -#}
{% macro quarter_start_date(quarter_expression) -%}
    make_date(
        cast(left({{ quarter_expression }}, 4) as integer),
        (cast(right({{ quarter_expression }}, 1) as integer) - 1) * 3 + 1,
        1
    )
{%- endmacro %}

{#- The quarter being profiled: var('profile_quarter') when given, else the environment
    variable SPP_PROFILE_QUARTER (which Dagster sets: an env var, unlike a changed --vars,
    keeps dbt's partial parsing), else null so models fall back to the latest quarter. -#}
{% macro profile_quarter() -%}
    {%- set quarter = var('profile_quarter', env_var('SPP_PROFILE_QUARTER', '')) -%}
    {%- if quarter -%}'{{ quarter }}'{%- else -%}cast(null as varchar){%- endif -%}
{%- endmacro %}
