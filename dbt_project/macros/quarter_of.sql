{#- A date's calendar quarter as 'YYYY-Qn', the year zero-padded to four digits so that quarters
    sort as text (pipelines/quarters.py is the Python twin). -#}
{% macro quarter_of(date_expression) -%}
    (format('{:04d}', year({{ date_expression }})) || '-Q' || cast(quarter({{ date_expression }}) as varchar))
{%- endmacro %}
