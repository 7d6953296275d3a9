/*
 * libFuzzer: the strict JSON check and json-c must agree.  Whatever
 * json_validate() accepts, json_parse() must turn into a value (or
 * report the document null); nothing may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct json_object *obj;
	char err[160];
	int valid;

	valid = json_validate(text, size, JSON_BODY_DEPTH, err, sizeof(err)) ==
	    0;
	obj = json_parse(text, size, JSON_BODY_DEPTH, err, sizeof(err));
	if (valid && obj == NULL && strcmp(err, "the document is null") != 0)
		abort(); /* accepted by the check, refused by json-c */
	if (!valid && obj != NULL)
		abort();
	json_object_put(obj);
	return 0;
}
