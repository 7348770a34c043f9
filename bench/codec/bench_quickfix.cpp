// bench: QuickFIX C++ (libquickfix-dev) parsing the codec benchmark's messages, the baseline
// fixcodec is compared with in the same run. Built as C++14: QuickFIX 1.14's headers use
// dynamic exception specifications, which C++17 removed.
#include "bench_quickfix.h"

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <quickfix/DataDictionary.h>
#include <quickfix/Message.h>

namespace {

std::unique_ptr<FIX::DataDictionary> dd;
std::vector<std::string> msgs;
FIX::Message msg; // reused, as an engine reuses its message objects
std::string last_error;

int count_fields(const FIX::FieldMap &m)
{
	int n = 0;
	for (auto it = m.begin(); it != m.end(); ++it)
		n++;
	for (auto g = m.g_begin(); g != m.g_end(); ++g)
		for (const FIX::FieldMap *e : g->second)
			n += count_fields(*e);
	return n;
}

} // namespace

extern "C" int bench_qf_init(const char *dict_xml, const char *const *m, const size_t *lens,
			     int n, char *err, size_t errlen)
{
	try {
		dd.reset(new FIX::DataDictionary(dict_xml));
	} catch (const std::exception &e) {
		std::snprintf(err, errlen, "QuickFIX could not load %s: %s", dict_xml, e.what());
		return -1;
	}
	msgs.clear();
	for (int i = 0; i < n; i++)
		msgs.emplace_back(m[i], lens[i]);
	return 0;
}

extern "C" int bench_qf_parse(int idx, enum bench_qf_mode mode)
{
	const std::string &s = msgs[static_cast<size_t>(idx)];
	try {
		switch (mode) {
		case BENCH_QF_PARSE:
			msg.setString(s, true);
			break;
		case BENCH_QF_PARSE_DD:
			msg.setString(s, true, dd.get(), dd.get());
			break;
		case BENCH_QF_PARSE_VALIDATE:
			msg.setString(s, true, dd.get(), dd.get());
			dd->validate(msg);
			break;
		}
	} catch (const std::exception &e) {
		last_error = e.what();
		return -1;
	}
	return 0;
}

extern "C" int bench_qf_fields(void)
{
	return count_fields(msg.getHeader()) + count_fields(msg) + count_fields(msg.getTrailer());
}

extern "C" int bench_qf_groups(int tag)
{
	return static_cast<int>(msg.groupCount(tag));
}

extern "C" const char *bench_qf_last_error(void)
{
	return last_error.c_str();
}

extern "C" void bench_qf_fini(void)
{
	dd.reset();
	msgs.clear();
}
