//! The lucide icons the product uses, inlined as SVG so no icon font or
//! extra request is needed.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconKind {
    Building2,
    Globe,
    Users,
    Monitor,
    Plus,
    Search,
    LogOut,
    ShieldCheck,
}

#[component]
pub fn Icon(kind: IconKind, #[prop(into, optional)] class: String) -> impl IntoView {
    let shapes = match kind {
        IconKind::Building2 => view! {
            <path d="M6 22V4a2 2 0 0 1 2-2h8a2 2 0 0 1 2 2v18Z"/>
            <path d="M6 12H4a2 2 0 0 0-2 2v6a2 2 0 0 0 2 2h2"/>
            <path d="M18 9h2a2 2 0 0 1 2 2v9a2 2 0 0 1-2 2h-2"/>
            <path d="M10 6h4"/>
            <path d="M10 10h4"/>
            <path d="M10 14h4"/>
            <path d="M10 18h4"/>
        }
        .into_any(),
        IconKind::Globe => view! {
            <circle cx="12" cy="12" r="10"/>
            <path d="M12 2a14.5 14.5 0 0 0 0 20 14.5 14.5 0 0 0 0-20"/>
            <path d="M2 12h20"/>
        }
        .into_any(),
        IconKind::Users => view! {
            <path d="M16 21v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2"/>
            <circle cx="9" cy="7" r="4"/>
            <path d="M22 21v-2a4 4 0 0 0-3-3.87"/>
            <path d="M16 3.13a4 4 0 0 1 0 7.75"/>
        }
        .into_any(),
        IconKind::Monitor => view! {
            <rect width="20" height="14" x="2" y="3" rx="2"/>
            <line x1="8" x2="16" y1="21" y2="21"/>
            <line x1="12" x2="12" y1="17" y2="21"/>
        }
        .into_any(),
        IconKind::Plus => view! {
            <path d="M5 12h14"/>
            <path d="M12 5v14"/>
        }
        .into_any(),
        IconKind::Search => view! {
            <circle cx="11" cy="11" r="8"/>
            <path d="m21 21-4.3-4.3"/>
        }
        .into_any(),
        IconKind::LogOut => view! {
            <path d="M9 21H5a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2h4"/>
            <polyline points="16 17 21 12 16 7"/>
            <line x1="21" x2="9" y1="12" y2="12"/>
        }
        .into_any(),
        IconKind::ShieldCheck => view! {
            <path d="M20 13c0 5-3.5 7.5-7.66 8.95a1 1 0 0 1-.67-.01C7.5 20.5 4 18 4 13V6a1 1 0 0 1 1-1c2 0 4.5-1.2 6.24-2.72a1.17 1.17 0 0 1 1.52 0C14.51 3.81 17 5 19 5a1 1 0 0 1 1 1z"/>
            <path d="m9 12 2 2 4-4"/>
        }
        .into_any(),
    };
    view! {
        <svg
            xmlns="http://www.w3.org/2000/svg"
            viewBox="0 0 24 24"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            class=class
        >
            {shapes}
        </svg>
    }
}
