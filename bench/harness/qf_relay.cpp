// fixmux-qf-relay: the baseline of issue 7 §3 "what a user would otherwise build": a FIX relay
// written with QuickFIX C++ (Debian libquickfix-dev) that does fixmux's job for the harness's
// order flow. Users log on to its acceptor (TargetCompID QFRELAY); one initiator session goes
// to the venue (SenderCompID QFRELAY). Every application message from a user is forwarded to
// the venue with the venue session's header; every ExecutionReport from the venue goes back to
// the user that sent its ClOrdID. Messages are validated against QuickFIX's FIX44.xml on both
// sides (as fixmux validates), stores are in memory, nothing is logged: the lightest honest
// configuration of a QuickFIX relay.
//
//   fixmux-qf-relay --listen PORT --venue HOST:PORT --users N --prefix u --dict FIX44.xml
//
// QuickFIX runs the acceptor and the initiator each in its own thread (SocketAcceptor and
// SocketInitiator are single-threaded reactors), so a message crosses from one to the other
// under a mutex on the ClOrdID map, as a straightforward QuickFIX application does.
#include <quickfix/Application.h>
#include <quickfix/FileStore.h>
#include <quickfix/MessageStore.h>
#include <quickfix/Message.h>
#include <quickfix/Session.h>
#include <quickfix/SessionSettings.h>
#include <quickfix/SocketAcceptor.h>
#include <quickfix/SocketInitiator.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <sstream>
#include <string>
#include <unistd.h>
#include <unordered_map>

static volatile std::sig_atomic_t stop_flag;
static void on_signal(int) { stop_flag = 1; }

class Relay : public FIX::Application {
public:
	FIX::SessionID venue;
	std::mutex mu;
	std::unordered_map<std::string, FIX::SessionID> owner; // ClOrdID -> user session
	unsigned long forwarded = 0, returned = 0, unroutable = 0;

	void onCreate(const FIX::SessionID &) override {}
	void onLogon(const FIX::SessionID &) override {}
	void onLogout(const FIX::SessionID &) override {}
	void toAdmin(FIX::Message &, const FIX::SessionID &) override {}
	void toApp(FIX::Message &, const FIX::SessionID &) throw(FIX::DoNotSend) override {}
	void fromAdmin(const FIX::Message &, const FIX::SessionID &)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::RejectLogon) override {}

	void fromApp(const FIX::Message &in, const FIX::SessionID &from)
		throw(FIX::FieldNotFound, FIX::IncorrectDataFormat, FIX::IncorrectTagValue,
		       FIX::UnsupportedMessageType) override
	{
		FIX::Message out(in);
		FIX::Header &h = out.getHeader();
		h.removeField(FIX::FIELD::MsgSeqNum);
		h.removeField(FIX::FIELD::SendingTime);
		if (from == venue) {
			std::string id = in.isSetField(11) ? in.getField(11) : std::string();
			FIX::SessionID to;
			{
				std::lock_guard<std::mutex> g(mu);
				auto it = owner.find(id);
				if (it == owner.end()) {
					unroutable++;
					return;
				}
				to = it->second;
				returned++;
			}
			h.setField(FIX::SenderCompID(to.getSenderCompID()));
			h.setField(FIX::TargetCompID(to.getTargetCompID()));
			FIX::Session::sendToTarget(out, to);
		} else {
			if (in.isSetField(11)) {
				std::lock_guard<std::mutex> g(mu);
				owner[in.getField(11)] = from;
				forwarded++;
			}
			h.setField(FIX::SenderCompID(venue.getSenderCompID()));
			h.setField(FIX::TargetCompID(venue.getTargetCompID()));
			FIX::Session::sendToTarget(out, venue);
		}
	}
};

int main(int argc, char **argv)
{
	std::string listen = "9881", venue_addr, prefix = "u", dict;
	int users = 10;
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string k = argv[i], v = argv[i + 1];
		if (k == "--listen") listen = v;
		else if (k == "--venue") venue_addr = v;
		else if (k == "--users") users = std::atoi(v.c_str());
		else if (k == "--prefix") prefix = v;
		else if (k == "--dict") dict = v;
		else { std::fprintf(stderr, "fixmux-qf-relay: unknown option %s\n", k.c_str()); return 2; }
	}
	size_t colon = venue_addr.rfind(':');
	if (colon == std::string::npos || dict.empty() || users < 1) {
		std::fprintf(stderr, "usage: fixmux-qf-relay --listen PORT --venue HOST:PORT --users N "
				     "[--prefix u] --dict FIX44.xml\n");
		return 2;
	}
	std::ostringstream acc, ini;
	acc << "[DEFAULT]\nConnectionType=acceptor\nSocketAcceptPort=" << listen
	    << "\nStartTime=00:00:00\nEndTime=00:00:00\nHeartBtInt=30\nUseDataDictionary=Y\n"
	       "DataDictionary=" << dict << "\nSocketNodelay=Y\nResetOnLogon=Y\n"
	       "ValidateUserDefinedFields=N\nCheckLatency=N\n";
	for (int i = 1; i <= users; i++) {
		char name[64];
		std::snprintf(name, sizeof(name), "%s%03d", prefix.c_str(), i);
		acc << "[SESSION]\nBeginString=FIX.4.4\nSenderCompID=QFRELAY\nTargetCompID=" << name
		    << "\n";
	}
	ini << "[DEFAULT]\nConnectionType=initiator\nStartTime=00:00:00\nEndTime=00:00:00\n"
	       "HeartBtInt=30\nReconnectInterval=1\nUseDataDictionary=Y\nDataDictionary=" << dict
	    << "\nSocketNodelay=Y\nResetOnLogon=Y\nCheckLatency=N\n[SESSION]\nBeginString=FIX.4.4\n"
	       "SenderCompID=QFRELAY\nTargetCompID=SIMVENUE\nSocketConnectHost="
	    << venue_addr.substr(0, colon) << "\nSocketConnectPort=" << venue_addr.substr(colon + 1)
	    << "\n";
	try {
		std::istringstream as(acc.str()), is(ini.str());
		FIX::SessionSettings aset(as), iset(is);
		Relay app;
		app.venue = FIX::SessionID("FIX.4.4", "QFRELAY", "SIMVENUE");
		FIX::MemoryStoreFactory astore, istore;
		FIX::SocketInitiator initiator(app, istore, iset);
		FIX::SocketAcceptor acceptor(app, astore, aset);
		std::signal(SIGTERM, on_signal);
		std::signal(SIGINT, on_signal);
		initiator.start();
		acceptor.start();
		std::printf("listening on %s\n", listen.c_str());
		std::fflush(stdout);
		while (!stop_flag)
			usleep(100000);
		acceptor.stop();
		initiator.stop();
		std::printf("fixmux-qf-relay: forwarded %lu, returned %lu, unroutable %lu\n",
			    app.forwarded, app.returned, app.unroutable);
	} catch (std::exception &e) {
		std::fprintf(stderr, "fixmux-qf-relay: %s\n", e.what());
		return 1;
	}
	return 0;
}
