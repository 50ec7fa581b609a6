{#- The domestic-abuse group of a protective order (a da_group of the domestic_abuse_groups
    seed), from its crime left-joined as `crimes`: the flag is recorded on the crime, so an order
    with no crime the warehouse holds (none recorded, or one the crimes extract lacks) is in
    its own group, 'no_crime', not counted as not domestic abuse. Its order type does not settle
    the flag: a non-molestation order's associated persons are not the flag's definition, and
    an injunction against harassment, a restraining or a stalking protection order may be either. -#}
{% macro order_da_group(crimes) -%}
    case
        when {{ crimes }}.crime_id is null then 'no_crime'
        when {{ crimes }}.is_domestic_abuse then 'domestic_abuse'
        else 'not_domestic_abuse'
    end
{%- endmacro %}
