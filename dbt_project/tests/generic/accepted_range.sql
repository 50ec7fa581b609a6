{#- Every non-null value of `column_name` lies in [min_value, max_value] (dbt_utils.accepted_range
    without the package: the project runs offline with no dbt packages). max_value may be left
    out for a lower bound only. -#}
{% test accepted_range(model, column_name, min_value, max_value=none) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }}
{%- if max_value is not none %} or {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
