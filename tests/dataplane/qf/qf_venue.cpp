// fixmux-qf-venue: a venue written with QuickFIX C++ (a SocketAcceptor with a FileStore, so
// its sequence numbers and sent messages survive a restart and it serves resends the way a
// QuickFIX venue does). Each new order is acknowledged (ExecutionReport OrdStatus=0) at once
// and filled (OrdStatus=2) after --fill-delay-ms; ExecIDs are "<ClOrdID>.<OrdStatus>", unique
// as long as ClOrdIDs are. With --cancel-on-logout every order still open when the session
// ends is cancelled (OrdStatus=4), as FX venues do: on fixmux's Logout the cancels are sent
// before the Logout is answered; when the connection just drops, QuickFIX keeps what it sends
// while the session is down in its store, so the reports reach fixmux by ResendRequest.
//
//   fixmux-qf-venue --dir DIR --port P [--sender SIMVENUE] [--target FIXMUX]
//                   [--fill-delay-ms D | --hold-fills] [--cancel-on-logout]
//
// --hold-fills: orders stay open until SIGUSR1, which fills every open order at once (a test
// decides when the fills happen, e.g. while their owners are logged out).
//
// DIR/venue.log, one line per event, flushed at once:
//   nos <ClOrdID> <PossDupFlag>   a NewOrderSingle taken as new
//   dup <ClOrdID> <PossDupFlag>   a NewOrderSingle whose ClOrdID was already seen (ignored)
//   er <ClOrdID> <ExecID> <OrdStatus>   an ExecutionReport handed to QuickFIX
//   logon | logout
// The ClOrdIDs seen are reloaded from venue.log at start, so a restarted venue still refuses
// duplicates. SIGTERM/SIGINT: logs out and exits 0. "listening" on stdout once accepting.
#include <quickfix/Application.h>
#include <quickfix/FileLog.h>
#include <quickfix/FileStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <unistd.h>

using Clock = std::chrono::steady_clock;

static volatile std::sig_atomic_t stop_flag, release_flag;
static void on_signal(int) { stop_flag = 1; }
static void on_usr1(int) { release_flag = 1; }

struct Order {
	std::string side, symbol, qty;
};

class Venue : public FIX::Application {
public:
	FIX::SessionID sid;
	FILE *log = nullptr;
	long fill_delay_ms = 0;
	bool cancel_on_logout = false;
	bool hold_fills = false;
	std::mutex mu;
	std::set<std::string> seen;
	std::map<std::string, Order> open;
	std::deque<std::pair<Clock::time_point, std::string>> fills;

	void onCreate(const FIX::SessionID &) override {}
	void onLogon(const FIX::SessionID &) override { line("logon"); }
	void onLogout(const FIX::SessionID &) override
	{
		line("logout");
		if (cancel_on_logout)
			cancel_open();
	}

	void cancel_open()
	{
		std::lock_guard<std::mutex> g(mu);
		for (auto &o : open)
			report(o.first, o.second, "4");
		open.clear();
		fills.clear();
	}
	void toAdmin(FIX::Message &, const FIX::SessionID &) override {}
	void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
	// A Logout from fixmux: the cancels go out before QuickFIX answers it, in the logout
	// cycle, while the session can still carry them.
	void fromAdmin(const FIX::Message &m, const FIX::SessionID &)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::RejectLogon) override
	{
		if (cancel_on_logout && m.getHeader().getField(FIX::FIELD::MsgType) == "5")
			cancel_open();
	}
	void fromApp(const FIX::Message &m, const FIX::SessionID &)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::UnsupportedMessageType) override
	{
		if (m.getHeader().getField(FIX::FIELD::MsgType) != "D")
			throw FIX::UnsupportedMessageType();
		const FIX::Header &h = m.getHeader();
		std::string id = m.getField(11);
		std::string dup = h.isSetField(43) && h.getField(43) == "Y" ? "Y" : "N";
		std::lock_guard<std::mutex> g(mu);
		if (!seen.insert(id).second) {
			line("dup " + id + " " + dup);
			return;
		}
		line("nos " + id + " " + dup);
		Order o{m.getField(54), m.getField(55), m.getField(38)};
		report(id, o, "0");
		if (fill_delay_ms == 0 && !hold_fills) {
			report(id, o, "2");
		} else {
			open[id] = o;
			auto due = hold_fills ? Clock::time_point::max()
					      : Clock::now() + std::chrono::milliseconds(fill_delay_ms);
			fills.emplace_back(due, id);
		}
	}

	// Called with mu held.
	void report(const std::string &id, const Order &o, const std::string &status)
	{
		FIX::Message er;
		er.getHeader().setField(FIX::FIELD::MsgType, "8");
		std::string exec = id + "." + status;
		er.setField(37, "O" + id);
		er.setField(17, exec);
		er.setField(150, status == "2" ? "F" : status);
		er.setField(39, status);
		er.setField(11, id);
		er.setField(55, o.symbol);
		er.setField(54, o.side);
		er.setField(38, o.qty);
		er.setField(151, status == "0" ? o.qty : "0");
		er.setField(14, status == "2" ? o.qty : "0");
		er.setField(6, status == "2" ? "1.1" : "0");
		line("er " + id + " " + exec + " " + status);
		// While the session is down QuickFIX stores the message under the next sequence
		// number; fixmux gets it by ResendRequest after its next Logon.
		FIX::Session *s = FIX::Session::lookupSession(sid);
		if (s)
			s->send(er);
	}

	void due_fills(bool release_all)
	{
		std::lock_guard<std::mutex> g(mu);
		auto now = Clock::now();
		while (!fills.empty() && (release_all || fills.front().first <= now)) {
			auto it = open.find(fills.front().second);
			if (it != open.end()) {
				report(it->first, it->second, "2");
				open.erase(it);
			}
			fills.pop_front();
		}
	}

	void line(const std::string &s)
	{
		std::fprintf(log, "%s\n", s.c_str());
		std::fflush(log);
	}
};

int main(int argc, char **argv)
{
	std::string dir, port, sender = "SIMVENUE", target = "FIXMUX";
	Venue app;
	for (int i = 1; i < argc; i++) {
		std::string k = argv[i];
		if (k == "--cancel-on-logout") {
			app.cancel_on_logout = true;
			continue;
		}
		if (k == "--hold-fills") {
			app.hold_fills = true;
			continue;
		}
		if (i + 1 >= argc) {
			std::fprintf(stderr, "fixmux-qf-venue: %s needs a value\n", k.c_str());
			return 2;
		}
		std::string v = argv[++i];
		if (k == "--dir") dir = v;
		else if (k == "--port") port = v;
		else if (k == "--sender") sender = v;
		else if (k == "--target") target = v;
		else if (k == "--fill-delay-ms") app.fill_delay_ms = std::atol(v.c_str());
		else { std::fprintf(stderr, "fixmux-qf-venue: unknown option %s\n", k.c_str()); return 2; }
	}
	if (dir.empty() || port.empty() || app.fill_delay_ms < 0) {
		std::fprintf(stderr, "usage: fixmux-qf-venue --dir DIR --port P [--sender ID] "
				     "[--target ID] [--fill-delay-ms D | --hold-fills] [--cancel-on-logout]\n");
		return 2;
	}
	{
		std::ifstream old(dir + "/venue.log");
		std::string kind, id;
		for (std::string l; std::getline(old, l);) {
			std::istringstream ls(l);
			if (ls >> kind >> id && kind == "nos")
				app.seen.insert(id);
		}
	}
	app.log = std::fopen((dir + "/venue.log").c_str(), "a");
	if (!app.log) {
		std::perror("venue.log");
		return 1;
	}
	app.sid = FIX::SessionID("FIX.4.4", sender, target);
	std::ostringstream ini;
	ini << "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=" << port
	    << "\nStartTime=00:00:00\nEndTime=00:00:00\nUseDataDictionary=N\nSocketNodelay=Y\n"
	       "FileStorePath=" << dir << "/store\nFileLogPath=" << dir << "/log\n"
	       "CheckLatency=N\n[SESSION]\nBeginString=FIX.4.4\n"
	       "SenderCompID=" << sender << "\nTargetCompID=" << target << "\n";
	std::signal(SIGTERM, on_signal);
	std::signal(SIGINT, on_signal);
	std::signal(SIGUSR1, on_usr1);
	try {
		std::istringstream is(ini.str());
		FIX::SessionSettings settings(is);
		FIX::FileStoreFactory store(settings);
		FIX::FileLogFactory logs(settings);
		FIX::SocketAcceptor acceptor(app, store, settings, logs);
		acceptor.start();
		std::printf("listening on %s\n", port.c_str());
		std::fflush(stdout);
		while (!stop_flag) {
			bool release = release_flag;
			release_flag = 0;
			app.due_fills(release);
			usleep(10000);
		}
		acceptor.stop();
	} catch (std::exception &e) {
		std::fprintf(stderr, "fixmux-qf-venue: %s\n", e.what());
		return 1;
	}
	return 0;
}
