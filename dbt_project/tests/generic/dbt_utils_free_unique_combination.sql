{#- No row shares the same values of `columns` (dbt_utils.unique_combination_of_columns
    without the package: the project runs offline with no dbt packages). -#}
{% test dbt_utils_free_unique_combination(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as duplicates
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
