{#- The first calendar year of a date's financial year (April to March), e.g. 2025 for
    2026-02-01 (financial year 2025/26); the FMS and Home Office statistics count in these. -#}
{% macro financial_year_of(date_expression) -%}
    cast(year({{ date_expression }}) - case when month({{ date_expression }}) < 4 then 1 else 0 end as integer)
{%- endmacro %}
