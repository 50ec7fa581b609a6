{#- Every non-null value of `column_name` lies in [min_value, max_value] (dbt_utils.accepted_range
    without the package: the project runs offline with no dbt packages). -#}
{% test accepted_range(model, column_name, min_value, max_value) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{% endtest %}
