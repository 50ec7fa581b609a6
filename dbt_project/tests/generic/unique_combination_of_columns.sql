{#- No row shares the same values of `columns` (dbt_utils.unique_combination_of_columns
    without the package: the project runs offline with no dbt packages). -#}
{% test unique_combination_of_columns(model, columns) %}
select
    {{ columns | join(', ') }},
    count(*) as duplicates
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1
{% endtest %}
