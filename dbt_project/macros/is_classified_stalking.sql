{#- Whether a row of int_crimes_classified is stalking by its classification: principal, or
    included when stalking_universe.use_included_classifications (super-complaint Rec 7). -#}
{% macro is_classified_stalking(relation='') -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    ({{ prefix }}is_principal_stalking
    {%- if setting('stalking_universe')['use_included_classifications'] %} or {{ prefix }}has_included_stalking{% endif %})
{%- endmacro %}
