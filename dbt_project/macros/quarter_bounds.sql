{#- First day of a 'YYYY-Qn' quarter string (twin of pipelines/quarters.quarter_start). -#}
{% macro quarter_start_date(quarter_expression) -%}
    make_date(
        cast(left({{ quarter_expression }}, 4) as integer),
        (cast(right({{ quarter_expression }}, 1) as integer) - 1) * 3 + 1,
        1
    )
{%- endmacro %}

{#- The quarter being profiled: var('profile_quarter') when given, else the quarter the Dagster
    dbt step wrote to raw.profile_run just before `dbt build` (null when empty, so models fall
    back to the latest quarter). Read at run time, in SQL: a quarter that reached the Jinja (an
    env var or a changed --vars) would make dbt re-parse on every run. -#}
{% macro profile_quarter() -%}
    {%- set quarter = var('profile_quarter', '') -%}
    {%- if quarter -%}'{{ quarter }}'
    {%- else -%}(select max(quarter) from {{ source('raw', 'profile_run') }})
    {%- endif -%}
{%- endmacro %}
