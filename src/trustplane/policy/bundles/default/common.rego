# Helpers shared by every rule of the default bundle.
#
# Facts arrive as plain JSON in which anything may be null, absent or of the wrong type; these
# helpers read them without ever raising, so each rule can say "absent" instead of erroring.
package trustplane.rules.common

import rego.v1

# The risk tiers, weakest first.
tiers := ["low", "medium", "high", "critical"]

# get reads key k of x: null when x is not an object or has no such key.
get(x, k) := object.get(x, k, null) if is_object(x)
else := null

# array_or_empty is x when it is an array, else the empty array.
array_or_empty(x) := x if is_array(x)
else := []

# tier is the model's risk tier, or the strictest one when it has no valid tier (fail closed).
tier(f) := t if {
	t := get(get(f, "model"), "risk_tier")
	t in tiers
} else := "critical"

# text is string s as sprintf should print it. In rego-cpp some strings (the result of concat,
# or a literal bound to a variable or passed as an argument) print with their JSON quotes
# through sprintf; trimming nothing normalises them.
text(s) := trim(s, "")

# join lists names for a message, separated by commas.
join(xs) := text(concat(", ", xs))

# describe names a value for a message: a string quoted, anything else by its type.
describe(x) := sprintf("\"%s\"", [text(x)]) if is_string(x)
else := "null" if is_null(x)
else := "an array" if is_array(x)
else := "an object" if is_object(x)
else := sprintf("a %s", [type_name(x)])

# label names a dataset or feature version in a message: name@version, else its name or id,
# else its position in the list.
label(d, i) := sprintf("%s@%v", [get(d, "name"), get(d, "version")]) if {
	is_string(get(d, "name"))
	versioned(get(d, "version"))
} else := get(d, "name") if {
	is_string(get(d, "name"))
} else := get(d, "id") if {
	is_string(get(d, "id"))
} else := sprintf("#%d", [i])

versioned(v) if is_string(v)

versioned(v) if is_number(v)

# who names the principal behind a sign-off in a message.
who(a, i) := get(a, "principal") if {
	is_string(get(a, "principal"))
} else := get(a, "principal_id") if {
	is_string(get(a, "principal_id"))
} else := sprintf("approval %s", [get(a, "id")]) if {
	is_string(get(a, "id"))
} else := sprintf("approval #%d", [i])

# strings keeps the strings of an array, in order (for listing config values in messages).
strings(xs) := [x | some x in array_or_empty(xs); is_string(x)]

# listing joins names for a message, or says "none".
listing(xs) := join(xs) if count(xs) > 0
else := "none"

# violation builds one entry of the decision's violations.
violation(id, message, remediation, owner_role) := {
	"id": id,
	"message": message,
	"remediation": remediation,
	"owner_role": owner_role,
}
