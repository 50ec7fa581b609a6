{#- A rule table of the settings (a list of mappings, e.g. assessment.recommendations) as rows:
    rule_order (1, 2, ... in the table's order), then each of `columns` (name -> SQL type) cast
    to its type, texts quoted. No rows when the table is empty. -#}
{% macro rule_table(rules, columns) %}
    select
        cast(rules.rule_order as integer) as rule_order
        {%- for name, type in columns.items() %},
            cast(rules.{{ name }} as {{ type }}) as {{ name }}
        {%- endfor %}
    from (
        values
        {%- for rule in rules %}
            (
                {{ loop.index }}
                {%- for name, type in columns.items() %},
                    {{ "'" ~ (rule[name] | string).replace("'", "''") ~ "'" if type == 'varchar' else rule[name] }}
                {%- endfor %}
            ){{ ',' if not loop.last }}
        {%- else %}
            (0{% for name in columns %}, null{% endfor %})
        {%- endfor %}
    ) as rules (rule_order{% for name in columns %}, {{ name }}{% endfor %})
    {%- if not rules %}
        where false
    {%- endif %}
{% endmacro %}
