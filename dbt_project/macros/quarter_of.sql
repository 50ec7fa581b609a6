{#- A date's calendar quarter as 'YYYY-Qn' (pipelines/quarters.py is the Python twin). -#}
{% macro quarter_of(date_expression) -%}
    (cast(year({{ date_expression }}) as varchar) || '-Q' || cast(quarter({{ date_expression }}) as varchar))
{%- endmacro %}
