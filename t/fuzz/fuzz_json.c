/*
 * libFuzzer: the strict JSON check and json-c must agree.  Whatever
 * json_validate() accepts, json_parse() must turn into a value (or
 * report the document null), with every member the text has (no two
 * names that json-c would fold into one), and json-c's own rendering of
 * it must pass the check again; whatever the check refuses, json_parse()
 * refuses too.  Nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Members of every object in o, as json-c holds them. */
static size_t
members(struct json_object *o)
{
	size_t n = 0, i;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, name, v)
		{
			(void)name;
			n += 1 + members(v);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++)
			n += members(json_object_array_get_idx(o, i));
	}
	return n;
}

/* Members as written: the colons outside strings of valid JSON text. */
static size_t
colons(const char *s, size_t n)
{
	size_t i, c = 0;
	int in = 0;

	for (i = 0; i < n; i++) {
		if (in && s[i] == '\\')
			i++;
		else if (s[i] == '"')
			in = !in;
		else if (!in && s[i] == ':')
			c++;
	}
	return c;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_object *obj;
	const char *again;
	char err[160];
	int valid;

	valid =
	    json_validate(text, size, JSON_BODY_DEPTH, err, sizeof(err)) == 0;
	obj = json_parse(text, size, JSON_BODY_DEPTH, err, sizeof(err));
	if (valid && obj == NULL && strcmp(err, "the document is null") != 0)
		abort(); /* accepted by the check, refused by json-c */
	if (!valid && obj != NULL)
		abort();
	if (obj != NULL) {
		if (members(obj) != colons(text, size))
			abort(); /* json-c kept fewer members: a name twice */
		again =
		    json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
		if (again == NULL ||
		    json_validate(again, strlen(again), JSON_BODY_DEPTH, err,
		        sizeof(err)) != 0)
			abort(); /* json-c's rendering is not what it read */
	}
	json_object_put(obj);
	return 0;
}
